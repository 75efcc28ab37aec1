"""Tests for text clean-up, lexical normalisation and FTS5 query safety."""

from __future__ import annotations

import sqlite3
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval.textnorm import clean_text, fold, fts_query, fts_text, terms


# --- clean_text ---------------------------------------------------------------------------


def test_clean_text_strips_nul_and_controls_but_keeps_newlines_and_tabs():
    assert clean_text("a\x00b\x07c\x1b[31md\x7f\te\nf") == "abc[31md\te\nf"


def test_clean_text_normalises_crlf_and_cr():
    assert clean_text("un\r\ndeux\rtrois") == "un\ndeux\ntrois"


@pytest.mark.parametrize(
    "char",
    ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u200f", "\u061c"]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)],
)
def test_clean_text_removes_invisible_and_bidi_characters(char):
    assert clean_text(f"Sca{char}le AI") == "Scale AI"


def test_clean_text_is_nfc():
    assert clean_text("e\u0301conomie") == "économie"
    assert unicodedata.is_normalized("NFC", clean_text("Cafe\u0301 de\u0301ja\u0300"))


def test_clean_text_cuts_combining_floods_to_three_marks():
    out = clean_text("Z" + "\u0336" * 50 + "algo")
    assert out == "Z" + "\u0336" * 3 + "algo"


def test_clean_text_keeps_ordinary_accents_and_punctuation():
    s = "L’État a dit « ça coûte 10 Md$ » — n’est-ce pas ?"
    assert clean_text(s) == s


_CONTROL_FREE = lambda s: all(  # noqa: E731
    (unicodedata.category(c) != "Cc" or c in "\n\t") and c not in "\u200b\u202e\u2066\ufeff\u00ad\r" for c in s
)


@settings(max_examples=300)
@given(st.text())
def test_clean_text_is_idempotent(s):
    once = clean_text(s)
    assert clean_text(once) == once


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("\x00\r\u200b\u202e\u2066\ufeff\u00ad\u0301")))
def test_clean_text_leaves_no_control_or_invisible_characters(s):
    out = clean_text(s)
    assert _CONTROL_FREE(out)
    out.encode("utf-8")  # no lone surrogates either


# --- terms --------------------------------------------------------------------------------


def test_fold_removes_accents_and_ligatures():
    assert fold("ÉCOLE Œuvre naïve") == "ecole oeuvre naive"


def test_accented_and_unaccented_forms_match():
    assert terms("élection présidentielle") == terms("ELECTION presidentielle")


@pytest.mark.parametrize("apostrophe", ["'", "\u2019", "\u02bc"])
def test_elisions_are_removed_with_any_apostrophe(apostrophe):
    text = f"l{apostrophe}entreprise d{apostrophe}Alexandr qu{apostrophe}il jusqu{apostrophe}en lorsqu{apostrophe}elle"
    assert terms(text) == terms("entreprise Alexandr il en elle") == ["entrepris", "alexandr"]


def test_elision_not_split_inside_words():
    assert terms("aujourd'hui") == ["aujourd", "hui"]


@pytest.mark.parametrize(
    ("singular", "plural"),
    [("cheval", "chevaux"), ("investissement", "investissements"), ("économique", "économiques"), ("président", "présidents")],
)
def test_french_plural_and_singular_share_a_stem(singular, plural):
    assert terms(singular) == terms(plural)


def test_french_and_english_stop_words_are_dropped():
    assert terms("le la les des du de un une et est") == []
    assert terms("what is the of and who") == []
    assert terms("Quel est le montant de l'investissement ?") == terms("montant investissement")


def test_numbers_and_names_survive():
    assert terms("Meta investit 14,3 milliards dans Scale AI") == ["met", "invest", "14", "3", "milliard", "scal", "ai"]


def test_terms_of_empty_or_punctuation_only_text():
    assert terms("") == []
    assert terms(" ?!… « » — ") == []


# --- FTS5 ---------------------------------------------------------------------------------


def test_fts_text_is_space_joined_terms():
    assert fts_text("Les chevaux de l'État") == "cheval etat"


def test_fts_query_ors_quoted_unique_terms_and_adjacent_phrases():
    assert fts_query("Les chevaux, le cheval et l'État ?") == '"cheval" OR "etat" OR "cheval etat"'


def test_fts_query_is_empty_without_terms():
    assert fts_query("Qui est-ce ? Et le ?") == ""
    assert fts_query("") == ""


@pytest.fixture()
def fts():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE fts USING fts5(title, body, tokenize='unicode61 remove_diacritics 2')")
    docs = [("Scale AI", "Meta investit plus de 10 milliards de dollars dans Scale AI."), ("Commerce", "Les négociations entre la Chine et les États-Unis.")]
    for i, (t, b) in enumerate(docs, 1):
        db.execute("INSERT INTO fts(rowid, title, body) VALUES (?,?,?)", (i, fts_text(t), fts_text(b)))
    yield db
    db.close()


@pytest.mark.parametrize(
    "hostile",
    ['"', '""', "*", "NEAR", "NEAR(a b)", "a AND b", "OR", "NOT x", "a - b", "body:x", "title : milliards", "^meta",
     "(", ")", "'", "x\x00y", "{title body}: a", "a + b", "🙂", "\u202e", 'Meta" OR "1'],
)
def test_fts_query_never_breaks_match(fts, hostile):
    q = fts_query(hostile)
    if q:
        fts.execute("SELECT rowid FROM fts WHERE fts MATCH ?", (q,)).fetchall()


def test_fts_query_finds_inflected_and_unaccented_forms(fts):
    rows = fts.execute("SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts)", (fts_query("negociation etats unis"),)).fetchall()
    assert rows[0][0] == 2
    rows = fts.execute("SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts)", (fts_query("Combien Meta a-t-elle investi ?"),)).fetchall()
    assert rows == [(1,)]


def test_fts_query_phrase_ranks_adjacent_terms_first(fts):
    fts.execute("INSERT INTO fts(rowid, title, body) VALUES (3, '', ?)", (fts_text("Scale AI et les milliards de Meta"),))
    rows = fts.execute("SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts)", (fts_query("milliards de dollars"),)).fetchall()
    assert rows[0] == (1,)


def test_fts_operators_in_questions_are_plain_words(fts):
    assert fts_query("NEAR AND NOT milliards") == '"near" OR "milliard" OR "near milliard"'
    rows = fts.execute("SELECT rowid FROM fts WHERE fts MATCH ?", (fts_query("NEAR AND NOT milliards"),)).fetchall()
    assert rows == [(1,)]


def test_fts_query_can_leave_out_common_terms_and_their_phrases():
    from retrieval.textnorm import fts_query, terms

    q = "Combien Meta prévoit-il d'investir dans Scale AI ?"
    assert fts_query(q, skip={"met"}) == fts_query(q).replace('"met" OR ', "").replace('"met prevoit" OR ', "")
    assert fts_query(q, skip=set(terms(q))) == ""
