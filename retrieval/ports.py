"""The Protocols of retrieval's seams: the embedder, the vector store and the lexical index.

Adapters (retrieval.embedding, retrieval.stores) implement them; the searcher and the indexer depend only on these, and
tests/fakes.py has a working fake of each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, Sequence

import numpy as np

if TYPE_CHECKING:
    from retrieval.chunking import Chunk


class Embedder(Protocol):
    """Turns passages and queries into unit vectors; ``name`` and ``dim`` are stored with the index."""

    name: str
    dim: int

    def embed_passages(self, texts: Sequence[str], threads: int | None = None) -> np.ndarray:
        """Embed passages as an (n, dim) float32 array of unit vectors; ``threads`` caps the cores used (default: all it has)."""

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query as a (dim,) float32 unit vector."""


class VectorStore(Protocol):
    """Stores chunk vectors by id and finds the nearest ones."""

    def upsert(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add or replace vectors."""

    def delete(self, ids: Sequence[str]) -> None:
        """Remove vectors by id (unknown ids are ignored)."""

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The ``k`` nearest ids with their cosine similarity, best first."""

    def ids(self) -> set[str]:
        """Every id in the store."""

    def count(self) -> int:
        """Number of vectors."""


class LexicalIndex(Protocol):
    """Ranks passages by their words (BM25 over the catalog's FTS5 table) and hands back their text and metadata."""

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """The ``k`` best chunk ids for ``query`` with their BM25 score (higher is better), best first."""

    def chunks(self, chunk_ids: Sequence[str]) -> dict[str, "Chunk"]:
        """The stored chunks with these ids (unknown ids are left out)."""
