"""Events of one answer, streamed to the CLI and to Telegram in this order: Retrieved, Queued*, Started, Token*, Done."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Source:
    """A passage given to the model, numbered as the answer cites it."""

    n: int
    doc_id: str
    title: str
    chunk_id: str
    text: str
    score: float
    start: int
    end: int
    url: str | None = None
    source: str | None = None
    quote: str | None = None  # the passage's sentence that supports the answer, shown under the source

    def as_dict(self) -> dict:
        """The fields `ask --json` prints."""
        return {k: getattr(self, k) for k in ("n", "doc_id", "title", "chunk_id", "text", "score", "start", "end", "quote")}


@dataclass(frozen=True)
class Retrieved:
    """Passages found; the model has not been called yet."""

    sources: list[Source]


@dataclass(frozen=True)
class Queued:
    """The answer waits behind ``ahead`` others."""

    ahead: int


@dataclass(frozen=True)
class Started:
    """Generation of this answer has begun."""


@dataclass(frozen=True)
class Token:
    """A piece of the answer."""

    text: str


@dataclass(frozen=True)
class Done:
    """The finished answer, cleaned of bad citations, with its sources and timings."""

    question: str
    answer: str
    sources: list[Source]
    abstained: bool
    cancelled: bool = False
    timings: dict = field(default_factory=dict)
    unsupported: list[str] = field(default_factory=list)  # sentences whose figures no passage holds

    def as_dict(self) -> dict:
        """The object `ask --json` prints."""
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "unsupported": self.unsupported,
            "sources": [s.as_dict() for s in self.sources],
            "timings": self.timings,
        }
