"""Working fakes for every seam: generator, embedder, vector store and lexical index. Each records what it was asked."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from typing import Iterator, Sequence

import numpy as np

from bot.core.ports import Usage
from retrieval.chunking import Chunk


QUOTE_FIRST = "<quote the first passage>"  # a FakeGenerator default: answer with passage [1]'s first sentence, cited


class FakeGenerator:
    """Streams queued answers word by word (or echoes a default), honouring cancel; records every prompt."""

    name = "fake-model.gguf"

    def __init__(self, n_ctx: int = 4096, delay_s: float = 0.0, default: str = "Meta investit plus de 10 milliards de dollars [1].") -> None:
        self.n_ctx = n_ctx
        self.delay_s = delay_s
        self.default = default
        self.queue: list[str] = []
        self.history: list[list[dict]] = []
        self.started = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.fail_with: Exception | None = None

    def enqueue(self, *answers: str) -> None:
        """Answers to give, in order, before falling back to the default."""
        self.queue.extend(answers)

    def stream(self, messages: Sequence[dict], max_tokens: int, cancel: threading.Event, usage: Usage) -> Iterator[str]:
        """Yield the next answer in word-sized pieces."""
        self.history.append(list(messages))
        self.started.set()
        self.release.wait(10)
        if self.fail_with is not None:
            raise self.fail_with
        text = self.queue.pop(0) if self.queue else (self.quoting(messages) if self.default == QUOTE_FIRST else self.default)
        usage.prompt_tokens = sum(self.count_tokens(m["content"]) for m in messages)
        for piece in re.findall(r"\S+\s*", text)[:max_tokens]:
            if cancel.is_set():
                return
            if self.delay_s:
                time.sleep(self.delay_s)
            usage.completion_tokens += 1
            yield piece

    @staticmethod
    def quoting(messages: Sequence[dict]) -> str:
        """A supported answer for any corpus: the first sentence of the first passage in the prompt, cited [1]."""
        blocks = messages[-1]["content"].split('"""')
        first = blocks[1].strip() if len(blocks) > 2 else ""
        sentence = re.split(r"(?<=[.!?])\s+", first)[0].rstrip(".!?") if first else "Rien"
        return f"{sentence} [1]."

    def count_tokens(self, text: str) -> int:
        """About one token a word."""
        return len(text.split())


class FakeEmbedder:
    """Hashed bag of words: texts sharing words get close vectors; deterministic and instant."""

    name = "fake-embedder"
    dim = 64

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.queries: list[str] = []
        self.threads: list[int | None] = []  # the thread cap of each passage call (None: all cores)

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for w in re.findall(r"\w+", text.lower()):
            v[int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_passages(self, texts: Sequence[str], threads: int | None = None) -> np.ndarray:
        """One batch of passages."""
        self.calls.append(len(texts))
        self.threads.append(threads)
        return np.array([self._vec(t) for t in texts], dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        """One query (recorded in ``queries``)."""
        self.queries.append(text)
        return self._vec(text)


class MemoryStore:
    """A vector store in a dict, searched exactly by cosine similarity; ``calls`` records each call and its size."""

    def __init__(self) -> None:
        self.vectors: dict[str, np.ndarray] = {}
        self.calls: list[tuple[str, int]] = []

    def upsert(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add or replace; like Chroma, one call may not name an id twice."""
        if len(set(ids)) != len(ids):
            raise ValueError("Expected IDs to be unique, found duplicates")
        self.calls.append(("upsert", len(ids)))
        for i, v in zip(ids, vectors):
            self.vectors[i] = np.asarray(v, dtype=np.float32)

    def delete(self, ids: Sequence[str]) -> None:
        """Remove."""
        self.calls.append(("delete", len(ids)))
        for i in ids:
            self.vectors.pop(i, None)

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Exact nearest neighbours."""
        self.calls.append(("query", k))
        scored = sorted(((float(v @ vector), i) for i, v in self.vectors.items()), reverse=True)[:k]
        return [(i, s) for s, i in scored]

    def ids(self) -> set[str]:
        """All ids."""
        return set(self.vectors)

    def count(self) -> int:
        """Number of vectors."""
        return len(self.vectors)


class MemoryLexicalIndex:
    """A lexical index in a dict: a chunk scores the number of query words it holds; records every query."""

    def __init__(self, chunks: Sequence[Chunk] = ()) -> None:
        self.stored = {c.chunk_id: c for c in chunks}
        self.queries: list[tuple[str, int]] = []

    def add(self, *chunks: Chunk) -> None:
        """Index more chunks."""
        self.stored.update((c.chunk_id, c) for c in chunks)

    def search(self, query: str, k: int, within: tuple[float, float] | None = None) -> list[tuple[str, float]]:
        """The chunks sharing words with the query, most shared first (ties by id); undated, so a range finds nothing."""
        self.queries.append((query, k))
        if within is not None:
            return []
        words = set(re.findall(r"\w+", query.lower()))
        scored = [(cid, float(len(words & set(re.findall(r"\w+", c.text.lower()))))) for cid, c in self.stored.items()]
        return sorted((x for x in scored if x[1] > 0), key=lambda x: (-x[1], x[0]))[:k]

    def chunks(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        """The stored chunks with these ids."""
        return {cid: self.stored[cid] for cid in chunk_ids if cid in self.stored}

    def rows(self, sql: str, params: Sequence = ()) -> list[tuple]:
        """The catalog's read queries (story members): this index holds no story groups, so every passage stands alone."""
        self.queries.append((sql, len(params)))
        return []
