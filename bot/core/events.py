"""The one event vocabulary of an answer, and its cancel switch.

The front ends see, in this order: Retrieved, Queued*, Started, Token*, Done. The generation worker emits Queued,
Started and Token as they are, and ends a job with Generated or Failed, which the answer loop turns into Done or raises.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable

from bot.core.ports import Usage


class Cancel(threading.Event):
    """The one way to stop an answer: once set, a queued job leaves the queue at once and a running one stops at the next token."""

    def __init__(self) -> None:
        super().__init__()
        self._hooks: list[Callable[[], None]] = []
        self._hooks_lock = threading.Lock()

    def on_set(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` when the switch is set (at once if it already is)."""
        with self._hooks_lock:
            if not self.is_set():
                self._hooks.append(hook)
                return
        hook()

    def set(self) -> None:
        """Flip the switch and run the hooks once."""
        with self._hooks_lock:
            if self.is_set():
                return
            super().set()
            hooks, self._hooks = self._hooks, []
        for hook in hooks:
            hook()


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
    published_at: str | None = None  # None when only the ingestion time is known (ask --json: published_kind says so)
    author: str | None = None
    published_kind: str | None = None  # "published", "feed" (the feed item's date) or "ingested" (no date known)
    where: str = ""  # 'Les Échos · 9 juin 2025', in the question's language (bot.core.dated)
    also_in: tuple[str, ...] = ()  # the same story elsewhere, each as 'source · date'
    lang: str = "en"  # the question's language, which ``where`` and ``also_in`` are written in
    quote: str | None = None  # the passage's sentence that supports the answer, shown under the source

    def __post_init__(self) -> None:
        """Keep also_in a tuple."""
        object.__setattr__(self, "also_in", tuple(self.also_in))  # a list when read back from JSON (chat history)

    def as_dict(self) -> dict:
        """The fields `ask --json` prints."""
        keys = ("n", "doc_id", "title", "chunk_id", "text", "score", "start", "end", "url", "source", "published_at",
                "author", "published_kind", "quote")
        return {**{k: getattr(self, k) for k in keys}, "origin": self.origin(), "also_in": list(self.also_in)}

    def origin(self) -> str:
        """Where and when, for a source line: "Les Échos · 9 juin 2025" (else "Le Monde, 2025-06-10"; an undated article
        shows when it was added)."""
        if self.where:
            return self.where
        day = (self.published_at or "")[:10]
        when = f"added {day}" if day and self.published_kind == "ingested" else day
        return ", ".join(x for x in (self.source, when) if x)


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
class Generated:
    """The worker's last word on a job that ran or was dropped: token counts, first-token time, whether it was cancelled."""

    usage: Usage
    first_token_ms: float | None
    cancelled: bool


@dataclass(frozen=True)
class Failed:
    """The worker's last word on a job that failed; ``error`` is a NewsbotError ready to show."""

    error: Exception


@dataclass(frozen=True)
class Done:
    """The finished answer, cleaned of bad citations, with its sources and timings."""

    question: str
    answer: str
    sources: list[Source]
    abstained: bool
    cancelled: bool = False
    timings: dict = field(default_factory=dict)
    unsupported: list[str] = field(default_factory=list)  # sentences flagged: a figure no passage holds, names joined…
    evidence: str = ""  # the passages' sentences quoted after the model's answer: the end of ``answer``

    @property
    def said(self) -> str:
        """The answer without the quoted evidence: what the model said, kept as the conversation's history."""
        if self.evidence and self.answer.endswith(self.evidence):
            return self.answer[: -len(self.evidence)].rstrip()
        return self.answer

    def as_dict(self) -> dict:
        """The object `ask --json` prints."""
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "unsupported": self.unsupported,
            "evidence": self.evidence or None,
            "sources": [s.as_dict() for s in self.sources],
            "timings": self.timings,
        }
