"""Terminal rendering of answers and sources."""

from __future__ import annotations

import textwrap
from typing import Sequence, TextIO

from bot.core.events import Source
from bot.core.text import quote


def print_sources(sources: Sequence[Source], out: TextIO) -> None:
    """The numbered sources, each with its title and a short quote."""
    if not sources:
        return
    out.write("\nSources:\n")
    for s in sources:
        out.write(f"  [{s.n}] {s.title}\n")
        out.write(textwrap.indent(textwrap.fill(f"“{quote(s.text)}”", width=88), "      ") + "\n")
    out.flush()
