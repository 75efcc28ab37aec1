"""Telegram HTML: answers escaped with their [n] markers kept, numbered sources, and splitting at 4,096 characters."""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Sequence

from bot.core.events import Done, Source
from bot.core.text import quote

LIMIT = 4096  # Telegram's message limit, counted here in UTF-16 code units of the HTML, which is never less than Telegram's count
TITLE_CHARS = 200
_SENTENCE_END = re.compile(r"[.!?…]['\"»”)]*\s+")
_JOINERS = {"\u200d", "\ufe0e", "\ufe0f"}


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
    """The longest prefix length of ``text`` whose escaped form fits ``limit`` (at least one character)."""
    used = 0
    for i, ch in enumerate(text):
        used += units(escape(ch))
        if used > limit:
            return max(i, 1)
    return len(text)


def _boundary(text: str, n: int) -> int:
    """The best place to cut ``text[:n]``: the last paragraph, line, sentence or word end in its latter two thirds, else a character end."""
    window = text[:n]
    floor = n // 3
    for pattern in (r"\n\s*\n", r"\n", _SENTENCE_END, r"\s+"):
        ends = [m.end() for m in re.finditer(pattern, window) if m.end() > floor]
        if ends:
            return ends[-1]
    cut = n
    # never separate a character from the marks and joiners that belong to it
    while cut > 1 and (_attaches(text[cut]) or text[cut - 1] in _JOINERS):
        cut -= 1
    return cut


def _attaches(ch: str) -> bool:
    """Whether a character belongs to the one before it: combining marks, joiners, variation selectors, skin tones."""
    return unicodedata.category(ch) in ("Mn", "Me", "Mc") or ch in _JOINERS or 0x1F3FB <= ord(ch) <= 0x1F3FF


def source_line(s: Source) -> str:
    """One numbered source: title (linked when it has a URL), where it comes from, and a short quote."""
    title = escape(s.title[:TITLE_CHARS])
    if s.url:
        title = f'<a href="{html.escape(s.url, quote=True)}">{title}</a>'
    origin = f" — {escape(s.source[:TITLE_CHARS])}" if s.source else ""
    return f"[{s.n}] <b>{title}</b>{origin}\n<i>“{escape(quote(s.quote or s.text))}”</i>"


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
    tail = text[-(limit // 2) :]
    return "…" + tail
