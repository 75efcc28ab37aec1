"""Text helpers shared by the front ends (the terminal and Telegram render the same quotes)."""

from __future__ import annotations

QUOTE_CHARS = 160


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """A short quote of a passage: its first ``limit`` characters, cut at a word."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"
