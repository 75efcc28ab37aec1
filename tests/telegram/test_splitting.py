"""Telegram's 4,096 limit in UTF-16 units: splitting at grapheme boundaries, the streamed preview, long source URLs."""

from __future__ import annotations

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.events import Done, Source
from bot.telegram.formatting import LIMIT, answer_html, escape, preview, source_line, split_text, units
from retrieval.documents import parse_json, safe_url

FLAG = "\U0001F1EB\U0001F1F7"  # 🇫🇷: two regional indicators
SCOTLAND = "\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F"  # black flag + tag sequence
FAMILY = "\U0001F468\u200d\U0001F469\u200d\U0001F467"  # ZWJ sequence
ACCENTED = "e\u0301\u0302"


def _boundaries(text: str) -> set[int]:
    """The offsets between graphemes of ``text``."""
    return {m.end() for m in regex.finditer(r"\X", text)} | {0}


def _check(text: str, limit: int) -> list[str]:
    """Split ``text`` and check the pieces: each fits, they give the text back, every cut is between graphemes."""
    pieces = split_text(text, limit)
    assert "".join(pieces) == text
    graphemes, cut = _boundaries(text), 0
    for piece in pieces:
        assert units(escape(piece)) <= limit or len(regex.findall(r"\X", piece)) == 1
        cut += len(piece)
        assert cut in graphemes, (cut, piece[-3:])
    return pieces


def test_flags_are_never_cut_in_half():
    for unit in (FLAG, SCOTLAND, FAMILY):
        pieces = _check(unit * 1500, LIMIT)
        assert len(pieces) > 1
        assert all(p.startswith(unit[0]) and p.endswith(unit[-1]) for p in pieces)


GRAPHEMES = st.lists(st.sampled_from([FLAG, SCOTLAND, FAMILY, ACCENTED, "a", "é", " ", "\n", ".", "&", "<", "😀", "字"]),
                     max_size=400).map("".join)


@settings(max_examples=300)
@given(GRAPHEMES, st.integers(20, 200))
def test_pieces_fit_and_every_cut_falls_between_graphemes(text, limit):
    _check(text, limit)


@settings(max_examples=100)
@given(st.lists(st.sampled_from(["😀", "a", FLAG, SCOTLAND, " ", "字"]), min_size=1, max_size=20), st.integers(100, 900))
def test_the_streamed_preview_never_exceeds_the_limit(run, times):
    text = "x" + "".join(run) * times
    shown = preview(text)
    assert units(shown) <= LIMIT
    if units(text.strip()) > LIMIT:  # the tail, starting on a grapheme boundary
        tail = shown[1:]
        assert text.strip().endswith(tail) and len(text.strip()) - len(tail) in _boundaries(text.strip())


def test_a_preview_of_astral_characters_is_not_4097_units():
    assert units(preview("😀" * 5000)) <= LIMIT  # "…" + 2,048 emoji was 4,097


def _source(url: str | None) -> Source:
    """A source with a long title and passage."""
    return Source(1, "d", "T" * 500, "c", "passage " * 500, 0.9, 0, 10, url=url, source="S" * 500)


def test_a_long_or_odd_url_never_makes_a_source_block_too_long():
    for url in ("https://example.org/" + "a&" * 20_000, "javascript:alert(1)", 'https://x.org/"><b>', "https://ok.example/a"):
        line = source_line(_source(url))
        assert units(line) <= LIMIT
        assert ("<a href" in line) == (url == "https://ok.example/a")
    done = Done("q", "réponse [1]", [_source("https://example.org/" + "%" * 100_000)] * 5, abstained=False)
    assert all(units(part) <= LIMIT for part in answer_html(done))


def test_only_http_urls_of_sane_length_are_kept_at_ingestion(tmp_path):
    assert safe_url("https://example.org/a?b=1") == "https://example.org/a?b=1"
    for bad in ("javascript:alert(1)", "tg://resolve?domain=x", "ftp://x.org/", "https://", "http://exa mple.org",
                "https://example.org/" + "a" * 3000, "/relative/path", "data:text/html,hi"):
        assert safe_url(bad) is None, bad
    docs = parse_json('[{"text": "t", "url": "javascript:alert(1)"}, {"text": "u", "url": "HTTPS://Example.org/x"}]',
                      tmp_path / "a.json", jsonl=False)
    assert [d.url for d in docs] == [None, "HTTPS://Example.org/x"]
