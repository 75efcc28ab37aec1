"""Text clean-up and the French/English lexical normalisation behind the FTS5 index."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from functools import lru_cache

import snowballstemmer

# Zero-width characters, bidi controls, BOM and soft hyphen: invisible, never meaningful here (a fast path: the Cf rule
# below removes them too, but U+061C and U+180E were not always Cf).
_INVISIBLE = dict.fromkeys(
    [0x00AD, 0x061C, 0x180E, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF]
    + list(range(0x202A, 0x202F))
    + list(range(0x2066, 0x206A))
)
_MAX_COMBINING = 3
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'", "`": "'", "\u2032": "'"})
_ELISION = re.compile(r"\b(?:jusqu|lorsqu|puisqu|quoiqu|presqu|qu|[ldjnsctm])'(?=\w)")
_WORD = re.compile(r"[^\W_]+")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "đ": "d", "ł": "l", "ı": "i"})

_STOP_FR = """
a à aie aient aies ait alors as au aucun aucune aupres auquel aura aurai auraient aurais aurait auras aurez
auriez aurions aurons auront aussi autre autres aux auxquelles auxquels avaient avais avait avant avec avez aviez
avions avoir avons ayant ayez ayons c ça car ce ceci cela celle celles celui cependant certain certaine certaines
certains ces cet cette ceux chacun chacune chaque chez ci comme comment d dans de des desquelles desquels dont du
duquel elle elles en encore entre es est et étaient étais était étant été êtes étiez étions être eu eue eues eûmes
eurent eus eusse eussent eusses eussiez eussions eut eût eûtes eux fûmes furent fus fusse fussent fusses fussiez
fussions fut fût fûtes ici il ils j je jusqu l la laquelle le lequel les lesquelles lesquels leur leurs lors lui
m ma mais me même mêmes mes moi mon n ne ni nos notre nous on ont ou où par parce pas pour pourquoi qu quand que
quel quelle quelles quels qui quoi s sa sans se sera serai seraient serais serait seras serez seriez serions serons
seront ses si sinon soi soient sois soit sommes son sont soyez soyons suis sur t ta te tes toi ton tous tout toute
toutes très tu un une unes uns vers vos votre vous y combien lorsque puisque quoique
"""
_STOP_EN = """
a about above after again against all am an and any are as at be because been before being below between both but
by can could did do does doing down during each few for from further had has have having he her here hers herself
him himself his how i if in into is it its itself just me more most my myself no nor not of off on once only or
other our ours ourselves out over own same she should so some such than that the their theirs them themselves then
there these they this those through to too under until up very was we were what when where which while who whom
why will with would you your yours yourself yourselves
"""


# Letters of other scripts drawn like Latin ones ("іgnоrе" with Cyrillic і, о, е): mapped to Latin inside a word that
# also has Latin letters, so a spoofed word reads, and is searched, as the word it imitates. A word in one script
# (Москва, Αθήνα) is left alone.
_CONFUSABLES = {
    **dict(zip("аеорсухіјѕԁԛԝһкмнтвАВЕКМНОРСТХІЈЅ", "aeopcyxijsdqwhkmhtbABEKMHOPCTXIJS")),
    **dict(zip("αοριυνκτΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "aopiuvktABEZHIKMNOPTYX")),
    "ɡ": "g", "ǀ": "l",  # not Turkish ı: it is a letter of Latin words there
}
_CONFUSABLE_TABLE = str.maketrans(_CONFUSABLES)
_CONFUSABLE_CHARS = re.compile("[" + "".join(_CONFUSABLES) + "]")
_WORD_WITH_CONFUSABLE = re.compile(r"[^\W\d_]*[" + "".join(_CONFUSABLES) + r"][^\W\d_]*")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


def _compatibility(ch: str) -> bool:
    """Fullwidth forms, mathematical alphanumerics and enclosed letters: styled Latin that NFKC turns back into Latin."""
    o = ord(ch)
    return 0xFF01 <= o <= 0xFF5E or 0x1D400 <= o <= 0x1D7FF or 0x24B6 <= o <= 0x24E9 or 0x1F130 <= o <= 0x1F189


def _unspoof(word: re.Match) -> str:
    """A mixed-script word with its look-alike letters made Latin; a word in one script as it was."""
    w = word.group(0)
    return w.translate(_CONFUSABLE_TABLE) if _LATIN.search(_CONFUSABLE_CHARS.sub("", w)) else w


def clean_text(s: str) -> str:
    """NFC text with look-alike letters made Latin, without control or format (Cf) characters, and with combining floods cut to three marks.

    Format characters (zero-width spaces and joiners, bidi controls, the BOM, tag characters U+E0000-E007F) are
    invisible: an instruction hidden with them, or a word split by them, must not reach the index or the prompt.
    """
    s = unicodedata.normalize("NFD", s.replace("\r\n", "\n").replace("\r", "\n"))
    out: list[str] = []
    marks = 0
    for ch in s:
        if ord(ch) in _INVISIBLE:
            continue
        cat = unicodedata.category(ch)
        if (cat == "Cc" and ch not in "\n\t") or cat in ("Cs", "Cf"):
            continue
        if cat in ("Mn", "Me"):
            marks += 1
            if marks > _MAX_COMBINING:
                continue
        else:
            marks = 0
            if ch >= "\u24b6" and _compatibility(ch):  # only code points from the first range up are worth testing
                ch = unicodedata.normalize("NFKC", ch)
        out.append(ch)
    text = unicodedata.normalize("NFC", "".join(out))
    return _WORD_WITH_CONFUSABLE.sub(_unspoof, text) if _CONFUSABLE_CHARS.search(text) else text


def fold(word: str) -> str:
    """Lower-case ASCII-ish form of a word: accents and ligatures folded."""
    word = unicodedata.normalize("NFKD", word.casefold().translate(_LIGATURES))
    return "".join(ch for ch in word if not unicodedata.combining(ch))


_STOP = frozenset(fold(w) for w in (_STOP_FR + _STOP_EN).split())
_stemmer = snowballstemmer.stemmer("french")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """French Snowball stem of a lower-cased word, then accent-folded."""
    return fold(_stemmer.stemWord(word))


def _words(text: str) -> list[str]:
    """Lower-cased words with elided articles and pronouns (l', qu', jusqu'…) removed."""
    text = clean_text(text).casefold().translate(_APOSTROPHES)
    return _WORD.findall(_ELISION.sub(" ", text))


def terms(text: str) -> list[str]:
    """Lexical tokens: lower-cased, elisions and stop words dropped, French-stemmed, accent-folded."""
    return [_stem(w) for w in _words(text) if fold(w) not in _STOP]


def fts_text(text: str) -> str:
    """The normalised, space-separated token string stored in an FTS5 column."""
    return " ".join(terms(text))


def fts_query(text: str, skip: Collection[str] = ()) -> str:
    """An FTS5 MATCH expression OR-ing the question's quoted terms and adjacent-term phrases; "" when none.

    Terms in ``skip`` (too common to rank anything: their posting lists are long and their BM25 weight is near
    zero) are left out, with the phrases that contain them.
    """
    words = terms(text)
    parts = dict.fromkeys(w for w in words if w not in skip)
    parts.update(dict.fromkeys(f"{a} {b}" for a, b in zip(words, words[1:]) if a != b and a not in skip and b not in skip))
    return " OR ".join('"' + p.replace('"', '""') + '"' for p in parts)
