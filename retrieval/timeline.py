"""The catalog in time order: the newest articles (one per story) and the stories of a period, for /latest and /digest."""

from __future__ import annotations

from dataclasses import dataclass

from retrieval.stores.catalog import Catalog, StoredChunk


@dataclass(frozen=True)
class Story:
    """One story: the newest version's first passage, and the other documents that told it."""

    lead: StoredChunk
    also: tuple[StoredChunk, ...]


def _stories(catalog: Catalog, where: str, params: tuple, limit: int) -> list[Story]:
    """The newest dated document of each story matching ``where``, newest first, with its story's other documents."""
    rows = catalog.rows(
        "SELECT p.doc_id, coalesce(s.story, p.doc_id) FROM published p JOIN documents d USING (doc_id) "
        f"LEFT JOIN stories s USING (doc_id) WHERE p.estimated = 0 {where} ORDER BY p.ts DESC",
        params,
    )
    newest: dict[str, str] = {}
    for doc_id, story in rows:
        newest.setdefault(story, doc_id)  # rows come newest first: the first of a story is its latest version
        if len(newest) >= limit:
            break
    out = []
    for story, doc_id in newest.items():
        first = catalog.rows("SELECT chunk_id FROM chunks WHERE doc_id = ? ORDER BY position LIMIT 1", (doc_id,))
        if not first:
            continue
        lead = catalog.chunks([first[0][0]])[first[0][0]]
        from retrieval.search import story_members

        others = story_members(catalog, [story]).get(story, [])
        out.append(Story(lead, tuple(c for c in others if c.doc_id != doc_id)))
    return out


def latest(catalog: Catalog, n: int, source: str | None = None) -> list[Story]:
    """The ``n`` newest stories (documents known only by their ingestion time are left out), of one source if named."""
    if source:
        return _stories(catalog, "AND lower(d.source) = lower(?)", (source,), n)
    return _stories(catalog, "", (), n)


def between(catalog: Catalog, start_ts: float, end_ts: float, limit: int) -> list[Story]:
    """The newest ``limit`` stories published in [start, end) UNIX time, oldest first (a digest reads in time order)."""
    found = _stories(catalog, "AND p.ts >= ? AND p.ts < ?", (start_ts, end_ts), limit)
    return found[::-1]
