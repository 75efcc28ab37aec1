"""The Protocols the answer loop depends on. The core imports these, never an adapter module.

- ``Generator``: streams a chat completion (bot.backends.llama in process, bot.backends.remote over HTTP).
- ``Embedder``, ``VectorStore``, ``LexicalIndex``: retrieval's seams, defined in retrieval.ports and re-exported here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Iterator, Protocol, Sequence

from retrieval.ports import Embedder, LexicalIndex, VectorStore


@dataclass
class Usage:
    """Token counts of one generation, filled in by the generator."""

    prompt_tokens: int = 0
    completion_tokens: int = 0


class Generator(Protocol):
    """Streams a chat completion; only the generation worker calls ``stream``."""

    name: str
    n_ctx: int
    # A generator may also set ``quotes = True`` when its answers are quotations of the passages already (the extractive
    # answerer): the answer path then never quotes the passages in place of a failed answer (bot.core.checking).

    def stream(self, messages: Sequence[dict], max_tokens: int, cancel: threading.Event, usage: Usage) -> Iterator[str]:
        """Yield the answer piece by piece; stop at the next token once ``cancel`` is set."""

    def count_tokens(self, text: str) -> int:
        """Number of tokens ``text`` takes."""



__all__ = ["Embedder", "Generator", "LexicalIndex", "Usage", "VectorStore"]
