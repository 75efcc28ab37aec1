"""Terminal rendering of answers and sources."""

from __future__ import annotations

import textwrap
from typing import Sequence, TextIO

from bot.core.dated import ALSO
from bot.core.events import Done, Source
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
        out.write(textwrap.indent(textwrap.fill(f"“{quote(s.quote or s.text)}”", width=88), "      ") + "\n")
    out.flush()


def print_final(done: Done, streamed: str, out: TextIO) -> None:
    """After the streamed tokens: the checked answer when it differs from what streamed (only the quoted evidence when
    that is all it adds), then the sources."""
    if not streamed.strip():
        out.write(done.answer)
    elif done.evidence and done.said.strip() == streamed.strip():
        out.write(f"\n\n{done.evidence}")
    elif done.answer.strip() != streamed.strip():
        label = "Réponse vérifiée" if _french(done) else "Checked against the sources"
        out.write(f"\n\n{label}:\n{done.answer}")
    out.write("\n")
    print_sources(done.sources, out)


def _french(done: Done) -> bool:
    """Whether the question was French, for the label of the checked answer."""
    from bot.core.language import detect

    return detect(done.question) == "fr"
