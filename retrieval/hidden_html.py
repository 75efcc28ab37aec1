"""Hidden HTML removed before reading a page: text a browser never shows (display:none, hidden, aria-hidden) is not article text.

Pages hide text from readers for menus and screen-reader hints, and also to smuggle instructions to a language
model. ``strip_hidden`` returns the page's HTML without those elements, so any HTML reader can use it.
"""

from __future__ import annotations

import html.parser
import re

_HIDING_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)|font-size\s*:\s*0(?![.\d]*[1-9])|opacity\s*:\s*0(?![.\d]*[1-9])"
    r"|(?:^|;)\s*(?:max-)?(?:height|width)\s*:\s*0(?:px)?\s*(?:;|$)",
    re.I,
)
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def is_hidden(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    """Whether an element with these attributes is never shown: ``hidden``, ``aria-hidden="true"`` or a hiding style."""
    values = {k.lower(): (v or "") for k, v in attrs}
    if "hidden" in values or values.get("aria-hidden", "").strip().lower() == "true":
        return True
    if tag == "template":
        return True
    return bool(_HIDING_STYLE.search(values.get("style", "")))


class _HiddenRanges(html.parser.HTMLParser):
    """Finds the source ranges of hidden elements, their content included."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self._source = source
        self._stack: list[tuple[str, int | None]] = []  # open tags, with the start offset of a hidden one
        self.ranges: list[tuple[int, int]] = []

    def _offset(self) -> int:
        """The source offset of the construct being parsed."""
        line, col = self.getpos()
        return self._line_starts[line - 1] + col

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in VOID:
            return
        hiding = any(start is not None for _, start in self._stack)
        self._stack.append((tag, self._offset() if not hiding and is_hidden(tag, attrs) else None))

    def handle_endtag(self, tag: str) -> None:
        if not any(t == tag for t, _ in self._stack):
            return  # a stray end tag closes nothing
        end = self._source.find(">", self._offset())
        end = len(self._source) if end < 0 else end + 1
        while self._stack:
            open_tag, start = self._stack.pop()
            if start is not None:
                self.ranges.append((start, end))
            if open_tag == tag:
                break

    def close(self) -> None:
        super().close()
        for _, start in self._stack:  # an unclosed hidden element hides the rest of the page
            if start is not None:
                self.ranges.append((start, len(self._source)))
        self._stack = []


def strip_hidden(page: str) -> str:
    """``page`` without its hidden elements (and everything inside them); the rest of the HTML is unchanged."""
    if not re.search(r"hidden|display|visibility|font-size|opacity|template|height|width", page, re.I):
        return page  # most pages: nothing to parse twice
    finder = _HiddenRanges(page)
    finder.feed(page)
    finder.close()
    out, pos = [], 0
    for start, end in sorted(finder.ranges):
        if start >= pos:
            out.append(page[pos:start])
            pos = end
        else:
            pos = max(pos, end)
    out.append(page[pos:])
    return "".join(out)
