"""Telegram HTML: answers escaped with their [n] markers kept, numbered sources, and splitting at 4,096 characters."""

from __future__ import annotations

import html
import re
from typing import Sequence

import regex

from bot.core.dated import ALSO
from bot.core.events import Done, Source
from bot.core.text import quote
from retrieval.documents import safe_url

LIMIT = 4096  # Telegram's message limit, counted here in UTF-16 code units of the HTML, which is never less than Telegram's count
TITLE_CHARS = 200
_SENTENCE_END = re.compile(r"[.!?…]['\"»”)]*\s+")
_GRAPHEME = regex.compile(r"\X")  # a user-perceived character: a flag, an emoji tag or ZWJ sequence, a letter and its marks
URL_UNITS = 1024  # a longer link is shown as plain title: with title and quote, a source line stays far below LIMIT


def escape(text: str) -> str:
    """Text safe inside Telegram HTML: only & < > need escaping."""
    return html.escape(text, quote=False)


def units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = LIMIT) -> list[str]:
    """Cut plain text into pieces whose escaped form fits ``limit``, at paragraph, line, sentence or word ends; joined they give ``text`` back."""
    pieces: list[str] = []
    while units(escape(text)) > limit:
        n = _fits(text, limit)
        cut = _boundary(text, n)
        pieces.append(text[:cut])
        text = text[cut:]
    if text:
        pieces.append(text)
    return pieces


def _fits(text: str, limit: int) -> int:
    """The longest prefix of ``text`` made of whole graphemes whose escaped form fits ``limit`` (at least one grapheme)."""
    used = 0
    for m in _GRAPHEME.finditer(text):
        used += units(escape(m.group(0)))
        if used > limit:
            return max(m.start(), m.end() if m.start() == 0 else 0)
    return len(text)


def _boundary(text: str, n: int) -> int:
    """The best place to cut ``text[:n]`` (``n`` a grapheme end): the last paragraph, line, sentence or word end in its latter two thirds, else ``n``."""
    window = text[:n]
    floor = n // 3
    for pattern in (r"\n\s*\n", r"\n", _SENTENCE_END, r"\s+"):
        ends = [m.end() for m in re.finditer(pattern, window) if m.end() > floor]
        if ends:
            return ends[-1]
    return n


def tail_graphemes(text: str, limit: int) -> str:
    """The longest end of ``text`` made of whole graphemes that is at most ``limit`` UTF-16 units."""
    graphemes = _GRAPHEME.findall(text)
    used, start = 0, len(graphemes)
    while start > 0 and used + units(graphemes[start - 1]) <= limit:
        start -= 1
        used += units(graphemes[start])
    return "".join(graphemes[start:])


def source_line(s: Source) -> str:
    """One numbered source: title (linked when it has a URL), where it comes from, and a short quote."""
    title = escape(s.title[:TITLE_CHARS])
    href = html.escape(s.url, quote=True) if s.url and safe_url(s.url) else ""
    if href and units(href) <= URL_UNITS:  # a catalog written before URLs were checked may still hold any string
        title = f'<a href="{href}">{title}</a>'
    where = s.origin()  # 'Les Échos · 9 juin 2025', in the question's language
    origin = f" — {escape(where[:TITLE_CHARS])}" if where else ""
    also = f"\n{escape(ALSO[s.lang if s.lang in ALSO else 'en'] + '; '.join(s.also_in))}" if s.also_in else ""
    return f"[{s.n}] <b>{title}</b>{origin}\n<i>“{escape(quote(s.quote or s.text))}”</i>{also}"


def sources_html(sources: Sequence[Source]) -> list[str]:
    """The sources block as lines, each a complete piece of HTML."""
    if not sources:
        return []
    return ["<b>Sources</b>"] + [source_line(s) for s in sources]


def pack(blocks: Sequence[str], limit: int = LIMIT, sep: str = "\n\n") -> list[str]:
    """Join complete HTML blocks into as few messages as fit ``limit`` each."""
    parts: list[str] = []
    for block in blocks:
        if parts and units(parts[-1] + sep + block) <= limit:
            parts[-1] += sep + block
        else:
            parts.append(block)
    return parts


def answer_html(done: Done, note: str = "", limit: int = LIMIT) -> list[str]:
    """The final answer as HTML messages: the escaped text, an optional note in italics, then the numbered sources."""
    text = done.answer.strip() or "…"
    blocks = [b for b in (escape(p).strip() for p in split_text(text, limit)) if b]
    tail = [blocks.pop()] + ([f"<i>{escape(note)}</i>"] if note else []) + sources_html(done.sources)
    return blocks + pack(tail, limit)  # the note and the sources follow the last piece of the answer


def sources_message(sources: Sequence[Source], limit: int = LIMIT) -> list[str]:
    """The /sources reply."""
    return pack(sources_html(sources), limit, sep="\n\n")


def preview(text: str, limit: int = LIMIT) -> str:
    """Streamed text as plain text (no parse mode), its tail shown with an ellipsis when it outgrows a message."""
    text = text.strip() or "…"
    if units(text) <= limit:
        return text
    return "…" + tail_graphemes(text, limit // 2)  # whole graphemes, so an astral character never tips it over limit
