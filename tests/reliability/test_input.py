"""Hostile input: blank, huge and invisible-character questions; broken, foreign-encoded and binary article files."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.core.events import Done
from retrieval.errors import InputError
from tests.conftest import ROOT, SEEDS, make_answerer

ZW, RLO, LRI, COMBINING = "\u200b", "\u202e", "\u2066", "\u0336"
INVISIBLE = set("\x00\u200b\u200c\u200d\u2060\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


# --- questions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["", "   ", "\n\t \n", ZW * 50, "\x00" * 20, RLO + ZW + "\ufeff"])
def test_blank_questions_are_refused(answerer, question):
    with pytest.raises(InputError, match="the question is empty"):
        answerer.check_question(question)


@pytest.mark.parametrize("size", [4096, 100_000])
def test_long_questions_are_refused_with_the_limit(answerer, size):
    with pytest.raises(InputError, match=rf"is {size} characters long; the limit is 2000"):
        answerer.check_question("a" * size)


def test_a_4096_character_question_passes_when_the_limit_allows_it(settings, fake_index, fake_generator):
    fake_index.indexer.ingest([SEEDS])
    answerer = make_answerer(settings, fake_index.searcher, fake_generator, max_question_chars=5000, abstain_threshold=0.0)
    try:
        question = ("Combien Meta investit-il dans Scale AI ? " * 120)[:4096]
        assert answerer.check_question(question) == question.strip()
        assert isinstance(list(answerer.answer_sync(question))[-1], Done)
    finally:
        answerer.close()


def test_invisible_floods_count_for_nothing_against_the_limit(answerer):
    flood = "Combien" + ZW * 5000 + " Meta" + COMBINING * 5000 + " ?"
    assert answerer.check_question(flood) == "Combien Meta" + COMBINING * 3 + " ?"


def test_floods_in_a_question_never_reach_the_prompt(answerer, fake_generator):
    question = f"Com{ZW * 300}bien {RLO}Meta{RLO * 50} inves\x00tit-il{COMBINING * 400} dans Scale AI ?"
    done = list(answerer.answer_sync(question))[-1]
    assert not done.abstained
    prompt = "".join(m["content"] for m in fake_generator.history[-1])
    assert not INVISIBLE & set(prompt)
    assert COMBINING * 4 not in prompt
    assert "Combien Meta investit-il" in prompt  # the question itself survives, cleaned


def _cli(args, data_dir, **env):
    """Run `python -m bot ARGS` with its own data directory."""
    full = {**os.environ, "NEWSBOT_DATA_DIR": str(data_dir), "NEWSBOT_MODEL": "bundled", **env}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=full, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_ask_refuses_blank_and_huge_questions_with_one_line_and_exit_1(tmp_path):
    data = tmp_path / "data"
    assert _cli(["ingest", str(SEEDS)], data).returncode == 0
    for question, message in [("", "the question is empty"), (" \t ", "the question is empty"),
                              ("x" * 4096, "is 4096 characters long; the limit is 2000"),
                              ("y" * 100_000, "is 100000 characters long; the limit is 2000")]:
        run = _cli(["ask", question], data)
        assert run.returncode == 1, run.stderr
        assert run.stderr.strip().splitlines()[-1] == f"newsbot: error: {message}" or message in run.stderr
        assert "Traceback" not in run.stderr and run.stdout == ""


# --- article files -----------------------------------------------------------------------------


def _hits_text(index, query):
    return " ".join(h.chunk.text for h in index.searcher.search(query, 5))


def test_floods_in_an_article_are_stripped_before_indexing(fake_index, tmp_path):
    article = tmp_path / "flood.txt"
    body = (f"Le ch{ZW * 200}ocolat suisse{RLO * 30} bat des records.\x00\x00 "
            f"Les exporta{COMBINING * 500}teurs de Zurich{LRI * 20} sont ravis.\n")
    article.write_text("Chocolat\n\n" + body, encoding="utf-8")
    report = fake_index.indexer.ingest([article])
    assert report.documents == 1 and not report.skipped
    stored = " ".join(c.text for c in fake_index.catalog.chunks(sorted(fake_index.catalog.chunk_ids())).values())
    assert not INVISIBLE & set(stored) and COMBINING * 4 not in stored
    assert "chocolat suisse bat des records" in stored
    assert "Zurich" in _hits_text(fake_index, f"chocolat {ZW}Zurich")


def test_latin1_article_is_read_with_its_accents(fake_index, tmp_path):
    article = tmp_path / "latin1.txt"
    article.write_bytes("Élysée\n\nLe café de l'Élysée coûte 3 € à Noël, déjà.\n".encode("cp1252"))
    report = fake_index.indexer.ingest([article])
    assert not report.skipped and report.documents == 1
    assert "Le café de l'Élysée coûte 3 € à Noël" in _hits_text(fake_index, "café Élysée")


def test_invalid_utf8_is_skipped_by_name_and_the_rest_goes_in(fake_index, tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "good.txt").write_text("Bon\n\nUn bon article sur la pêche.\n", encoding="utf-8")
    # 0x81 and 0x8D are undefined in both UTF-8 (as lead bytes) and Windows-1252.
    (folder / "broken.txt").write_bytes(b"Titre\n\nUn texte \xc3\x28 cass\x81 \x8d ici.\n")
    report = fake_index.indexer.ingest([folder])
    assert [(p.rsplit("/", 1)[-1], r) for p, r in report.skipped] == [("broken.txt", "not valid UTF-8 text (byte 23)")]
    assert report.documents == 1


BINARY = "looks like a binary file, not text"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("Un article en UTF-16 avec un BOM.".encode("utf-16"), BINARY),  # caught by its NUL bytes
        (b"\x1f\x8b\x08\x00" + bytes(500), BINARY),  # gzip: NULs
        (bytes(range(1, 32)) * 100, BINARY),  # no NUL, decodes as Windows-1252: caught by its control characters
        (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8, "not valid UTF-8 text (byte 137)"),  # 0x81: neither UTF-8 nor 1252
    ],
    ids=["utf16", "gzip", "controls", "elf"],
)
def test_binary_file_named_txt_is_skipped_with_its_reason(fake_index, tmp_path, content, reason):
    article = tmp_path / "article.txt"
    article.write_bytes(content)
    report = fake_index.indexer.ingest([article])
    assert report.documents == 0 and report.skipped == [(str(article), reason)]
    assert fake_index.store.count() == 0


def test_random_bytes_named_txt_are_skipped(fake_index, tmp_path):
    article = tmp_path / "article.txt"
    article.write_bytes(os.urandom(4096))
    report = fake_index.indexer.ingest([article])
    assert report.documents == 0 and len(report.skipped) == 1 and fake_index.store.count() == 0


@pytest.mark.slow
def test_cli_ingest_names_skipped_files_and_fails_only_when_nothing_went_in(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(2000))
    run = _cli(["ingest", str(folder)], tmp_path / "data")
    assert run.returncode == 1 and f"skipped {folder / 'photo.txt'}: looks like a binary file, not text" in run.stderr
    assert "Traceback" not in run.stderr
    (folder / "good.txt").write_text("Bon\n\nUn bon article sur la pêche.\n", encoding="utf-8")
    run = _cli(["ingest", str(folder)], tmp_path / "data")
    assert run.returncode == 0 and "1 documents" in run.stdout and "photo.txt" in run.stderr
