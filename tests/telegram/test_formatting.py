"""Telegram HTML: escaping, citation markers, sources, and splitting at paragraph/sentence ends within 4,096 characters."""

import html
from html.parser import HTMLParser

from hypothesis import given, settings, strategies as st

from bot.core.events import Done, Source
from bot.telegram.formatting import LIMIT, answer_html, escape, preview, sources_message, split_text, units

TEXT = st.lists(st.sampled_from(list("ab cé<>&*_`[]1.!?\n") + ["😀", "e\u0301", "👍🏽"]), max_size=300).map("".join)


class Balanced(HTMLParser):
    """Checks that tags open and close in order and collects the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag

    def handle_data(self, data):
        self.text.append(data)


def visible(part: str) -> str:
    p = Balanced()
    p.feed(part)
    p.close()
    assert p.stack == []
    return "".join(p.text)


def source(n: int, title: str = "Titre <i>", text: str = "Un passage & une citation.") -> Source:
    return Source(n, f"d{n}", title, f"c{n}", text, 0.5, 0, len(text), "https://example.org/a?b=1&c=2", "Le Monde")


@given(TEXT, st.integers(min_value=8, max_value=120))
@settings(max_examples=300, deadline=None)
def test_split_round_trips_and_every_piece_fits(text, limit):
    pieces = split_text(text, limit)
    assert "".join(pieces) == text
    assert all(units(escape(p)) <= limit for p in pieces)
    assert all(p for p in pieces)


@given(TEXT)
@settings(max_examples=200, deadline=None)
def test_split_never_separates_a_character_from_its_marks(text):
    for piece in split_text(text, 8)[1:]:
        assert not piece.startswith("\u0301") and not piece.startswith("🏽")


def test_split_prefers_paragraphs_then_sentences():
    text = "First paragraph here.\n\nSecond one. It has two sentences."
    assert split_text(text, 30) == ["First paragraph here.\n\n", "Second one. ", "It has two sentences."]


@given(TEXT.filter(lambda t: t.strip()), st.integers(min_value=0, max_value=4))
@settings(max_examples=200, deadline=None)
def test_answer_html_is_escaped_balanced_and_keeps_the_text(text, n_sources):
    done = Done("q", text * 8, [source(i + 1) for i in range(n_sources)], abstained=False)
    parts = answer_html(done, limit=300)
    assert all(units(p) <= 300 for p in parts)
    shown = [visible(p) for p in parts]
    joined = "".join(shown)
    assert "".join(done.answer.split()) in "".join(joined.split())


def test_answer_keeps_markers_and_escapes_markup():
    done = Done("q", "Meta <script> & *co* _x_ [1][2].", [source(1), source(2)], abstained=False)
    (part,) = answer_html(done)
    assert part.startswith("Meta &lt;script&gt; &amp; *co* _x_ [1][2].\n\n<b>Sources</b>")
    assert '[1] <b><a href="https://example.org/a?b=1&amp;c=2">Titre &lt;i&gt;</a></b> — Le Monde\n<i>“Un passage &amp; une citation.”</i>' in part
    assert html.unescape(visible(part)).startswith("Meta <script> & *co* _x_ [1][2].")


def test_a_long_answer_is_split_within_the_limit():
    body = ("Une phrase assez longue avec des <balises> & des étoiles *. " * 40 + "\n\n") * 6
    parts = answer_html(Done("q", body, [source(1)], abstained=False), note="Stopped by /cancel.")
    assert len(parts) > 1 and all(units(p) <= LIMIT for p in parts)
    assert parts[-1].rstrip().endswith("”</i>") and "<i>Stopped by /cancel.</i>" in parts[-1]
    for p in parts:
        visible(p)


def test_sources_message_and_preview():
    (msg,) = sources_message([source(1), source(2)])
    assert msg.count("<b>Sources</b>") == 1 and "[2] <b>" in msg
    long = "x" * 5000
    assert units(preview(long)) <= LIMIT and preview("  ") == "…"
