"""Terminal rendering of answers and sources."""

from __future__ import annotations

import textwrap
from typing import Sequence, TextIO

from bot.core.dated import ALSO
from bot.core.events import Source
from bot.core.text import quote


def print_sources(sources: Sequence[Source], out: TextIO) -> None:
    """The numbered sources, each with its title and a short quote."""
    if not sources:
        return
    out.write("\nSources:\n")
    for s in sources:
        origin = s.origin()
        out.write(f"  [{s.n}] {s.title}" + (f" — {origin}" if origin else "") + "\n")
        if s.also_in:
            out.write(textwrap.indent(textwrap.fill(ALSO.get(s.lang, ALSO["en"]) + "; ".join(s.also_in), width=88), "      ") + "\n")
        out.write(textwrap.indent(textwrap.fill(f"“{quote(s.text)}”", width=88), "      ") + "\n")
    out.flush()
