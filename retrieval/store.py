"""The dense vector store: a Protocol, and Chroma (embedded PersistentClient or a server through HttpClient)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from retrieval.errors import IndexError_

COLLECTION = "newsbot"


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


class ChromaStore:
    """Chroma collection in cosine space; the embedder's name and dimension are stored in its metadata."""

    def __init__(self, client, embedder_name: str, dim: int) -> None:
        self._client = client
        try:
            self._col = client.get_or_create_collection(
                COLLECTION,
                metadata={"embedder": embedder_name, "dim": dim},
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        except Exception as exc:  # chromadb raises many types for a damaged store
            raise IndexError_(f"cannot open the Chroma index ({_one_line(exc)}); run `newsbot ingest --rebuild`") from exc
        meta = self._col.metadata or {}
        if meta.get("embedder") != embedder_name or meta.get("dim") != dim:
            raise IndexError_(
                f"the index was built with embedder {meta.get('embedder')!r} (dim {meta.get('dim')}), "
                f"not {embedder_name!r} (dim {dim}); re-ingest with `newsbot ingest --rebuild`"
            )

    @classmethod
    def persistent(cls, path: Path, embedder_name: str, dim: int) -> "ChromaStore":
        """An embedded store in ``path`` (one writing process only)."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        try:
            client = chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
        except Exception as exc:
            raise IndexError_(f"cannot open the Chroma index in {path} ({_one_line(exc)}); run `newsbot ingest --rebuild`") from exc
        return cls(client, embedder_name, dim)

    def upsert(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add or replace vectors in one call."""
        if len(ids):
            self._col.upsert(ids=list(ids), embeddings=np.asarray(vectors, dtype=np.float32))

    def delete(self, ids: Sequence[str]) -> None:
        """Remove vectors by id."""
        if len(ids):
            self._col.delete(ids=list(ids))

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Nearest ids; Chroma's cosine distance is turned back into a similarity."""
        n = self.count()
        if n == 0:
            return []
        res = self._col.query(query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=min(k, n), include=["distances"])
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0])]

    def ids(self) -> set[str]:
        """Every id, fetched in pages."""
        out: set[str] = set()
        offset, page = 0, 5000
        while True:
            got = self._col.get(include=[], limit=page, offset=offset)["ids"]
            out.update(got)
            if len(got) < page:
                return out
            offset += page

    def count(self) -> int:
        """Number of vectors."""
        return self._col.count()


def _one_line(exc: BaseException) -> str:
    """The first line of an exception's message."""
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
