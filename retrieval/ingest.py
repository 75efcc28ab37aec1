"""Ingestion: article files to chunks, embedded in batches and written to the vector store and the catalog together."""

from __future__ import annotations

import dataclasses
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from retrieval.stores.catalog import Catalog
from retrieval.chunking import (
    DEFAULT_CHUNK_CHARS,
    DEFAULT_OVERLAP_SENTENCES,
    Chunk,
    chunk_document,
    is_headline,
    parent_id,
    sub_spans,
    vector_ids,
)
from retrieval.documents import SUPPORTED_SUFFIXES, Document, read_documents
from retrieval.ports import Embedder
from retrieval.errors import IngestError
from retrieval.injection import neutralise
from retrieval.ports import VectorStore

BATCH = 64
BACKGROUND_BATCH = 8  # passages per catalog write beside answers (the running bot)
BACKGROUND_PIECE = 4  # texts per embedding call beside answers: a question that arrives waits for at most one
MAX_YIELD_S = 300.0  # the longest background embedding pauses for answers before it goes on, on one thread


@dataclass
class IngestReport:
    """What one ingestion did; ``chunks`` and ``documents`` are totals in the index afterwards."""

    documents: int = 0
    chunks: int = 0
    added: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    flagged: list[tuple[str, str]] = field(default_factory=list)  # (path, what was found), see retrieval/injection.py
    new_docs: list[Document] = field(default_factory=list)  # documents that brought new passages (for replies)

    def as_dict(self) -> dict:
        """The report as JSON-ready data."""
        return {
            "documents": self.documents,
            "chunks": self.chunks,
            "added": self.added,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "flagged": [{"path": p, "reason": r} for p, r in self.flagged],
        }


def embed_text(title: str, text: str) -> str:
    """What the embedder sees for a chunk: its document's title, then its text (the title measured +0.005 hit@1)."""
    return f"{title}. {text}"


def sub_text(title: str, text: str) -> str:
    """What the embedder sees for a sub-chunk.

    A short title names what the passage is about (an entity: "Sicile", "Napoléon Ier"), which its sentences
    often only call "il" or "la ville": it goes in front, as for the passage. A headline is a sentence of its
    own, shared by every passage of the article: in front of a 400-character window it drowns the differences
    between them (docs/retrieval.md), so the window goes alone and the passage's own vector carries it.
    """
    return text if is_headline(title) else embed_text(title, text)

def vector_items(chunk_id: str, title: str, text: str, lead: bool = False) -> list[tuple[str, str]]:
    """(vector id, text to embed) for a passage and each of its sub-chunks; a lead passage also gets its headline's."""
    lead = lead and is_headline(title)  # a name sums up nothing; a headline sums up the lead paragraph
    subs = sub_spans(text) + ([(-1, -1)] if lead else [])
    ids = vector_ids(chunk_id, len(subs))
    if lead:  # news is written as an inverted pyramid: the headline sums up the lead paragraph
        return list(zip(ids, [embed_text(title, text)] + [sub_text(title, text[s:e]) for s, e in subs[:-1]] + [title]))
    return list(zip(ids, [embed_text(title, text)] + [sub_text(title, text[s:e]) for s, e in subs]))


def expand(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Article files under ``paths`` (sorted, hidden files skipped), and the folders among ``paths``."""
    files: list[Path] = []
    folders: list[Path] = []
    for p in paths:
        if p.is_dir():
            folders.append(p.resolve())
            files.extend(
                f
                for f in sorted(p.rglob("*"))
                if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
        else:
            files.append(p)
    return files, folders


@dataclass
class _Plan:
    """What one ingestion will do: documents to add, (key, doc_id) links to forget, keys seen, documents queued."""

    to_add: list[tuple[Document, list[Chunk]]] = field(default_factory=list)
    stale: list[tuple[str, str]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    queued: set[str] = field(default_factory=set)


class Indexer:
    """Keeps the vector store and the catalog in step with a set of article files."""

    def __init__(
        self,
        embedder: Embedder,
        store: VectorStore,
        catalog: Catalog,
        chunk_chars: int = DEFAULT_CHUNK_CHARS,
        overlap: int = DEFAULT_OVERLAP_SENTENCES,
    ) -> None:
        self.embedder = embedder
        self.store = store
        self.catalog = catalog
        self.chunk_chars = chunk_chars
        self.overlap = overlap
        # Background ingestion (the running bot, see ``background``): while ``yield_while`` answers True, embedding
        # waits between calls of ``piece`` texts, so that a question never waits long behind one.
        self.yield_while: Callable[[], bool] | None = None
        self.batch = BATCH
        self.piece: int | None = None  # texts per embedding call; None: a whole batch in one call
        self.max_yield_s = MAX_YIELD_S
        self.poll_s = 0.05
        self._stepped_back = False  # a pause ran out and the answers have not stopped since

    def background(self, busy: Callable[[], bool], batch: int = BACKGROUND_BATCH, piece: int = BACKGROUND_PIECE) -> None:
        """Ingest beside answers (the running bot): questions go first.

        Before each embedding call of ``piece`` texts the indexer waits while ``busy()`` (an answer is being retrieved,
        waits or is generated); idle, the call uses every core the embedder has. A question that arrives mid-call shares
        the cores with that one call only (4 texts, a fraction of a second on two idle cores). A pause is bounded
        (``max_yield_s``): past it, embedding goes on one thread until the answers stop.

        (Idle CPU priority for these calls, Linux's SCHED_IDLE, was tried: on a box that other programs kept busy the
        refresh starved, and with it the bot's shutdown, which waits for the refresh in flight.)
        """
        self.yield_while, self.batch, self.piece = busy, batch, piece

    def foreground(self) -> None:
        """Ingest alone (the CLI): whole batches, every core, no pauses."""
        self.yield_while, self.batch, self.piece = None, BATCH, None

    def ingest(self, paths: Sequence[Path], progress: bool | None = None, on_skip: Callable[[str, str], None] | None = None) -> IngestReport:
        """Add new and edited articles, drop the passages of edited or deleted ones; unreadable files are skipped and reported."""
        report = IngestReport()
        files, folders = expand(paths)
        for p in paths:
            if not p.exists():
                report.skipped.append((str(p), "no such file or folder"))
        plan = _Plan()
        for f in files:
            try:
                docs = read_documents(f)
            except IngestError as exc:
                report.skipped.append((str(f), str(exc).removeprefix(f"{f}: ")))
                if on_skip:
                    on_skip(str(f), str(exc))
                continue
            self._plan(str(f.resolve()), [self._screen(d, str(f), report) for d in docs], plan, report)
        for folder in folders:
            gone = [p for p in self.catalog.paths_under(str(folder)) if p not in plan.seen]
            plan.stale.extend((p, d) for p, ds in self.catalog.docs_for_paths(gone).items() for d in ds)
        return self._apply(plan, report, progress)

    def ingest_keyed(self, items: Sequence[tuple[str, Sequence[Document]]], progress: bool | None = None,
                     report: IngestReport | None = None) -> IngestReport:
        """Add documents that come from no file, each group under its key (a page's canonical URL, a feed item's guid).

        A key is an identity: the documents stored under it before and not given now (an edited page) are replaced.
        """
        report = report or IngestReport()
        plan = _Plan()
        for key, docs in items:
            self._plan(key, [self._screen(dataclasses.replace(d, path=key), key, report) for d in docs], plan, report)
        return self._apply(plan, report, progress)

    def _plan(self, key: str, docs: Sequence[Document], plan: "_Plan", report: IngestReport) -> None:
        """Queue what ``docs``, now found under ``key``, add to the index, and the links of ``key`` they replace."""
        plan.seen.add(key)
        old = set(self.catalog.docs_for_paths([key])[key])
        plan.stale.extend((key, d) for d in old - {d.doc_id for d in docs})
        for doc in docs:
            report.titles.append(doc.title)
            if doc.doc_id in plan.queued:  # a second copy in this run only records its origin
                plan.to_add.append((doc, []))
                continue
            plan.queued.add(doc.doc_id)
            chunks = chunk_document(doc, self.chunk_chars, self.overlap)
            have = self.catalog.chunk_ids([doc.doc_id])  # also when another file brought the same article
            fresh = [c for c in chunks if c.chunk_id not in have]
            report.unchanged += len(chunks) - len(fresh)
            if fresh or doc.doc_id not in old:
                plan.to_add.append((doc, fresh))
            if fresh:
                report.new_docs.append(doc)

    def _apply(self, plan: "_Plan", report: IngestReport, progress: bool | None) -> IngestReport:
        """Forget the stale links, drop documents no origin holds, add the queued ones, repair, count."""
        # A document that left one file but is queued from another (a renamed or copied file) stays.
        stale_docs = [d for d in self.catalog.unlink(plan.stale) if d not in plan.queued]
        report.removed += self._remove(stale_docs)
        report.added += self._add(plan.to_add, progress)
        report.added += self.reconcile(progress)
        report.documents, report.chunks = self.catalog.counts()
        return report

    @staticmethod
    def _screen(doc: Document, path: str, report: IngestReport) -> Document:
        """The document with chat-template control tokens removed; the file is reported when anything was found (kept otherwise)."""
        text, found = neutralise(doc.text)
        title, found_in_title = neutralise(doc.title)
        found += found_in_title
        if not found:
            return doc
        removed = sum(f.neutralised for f in found)
        what = (f"{removed} sentence(s) with chat-template control tokens neutralised" if removed
                else "text that may address an AI model (kept: reported only)")
        report.flagged.append((path, f"{what}: “{found[0].excerpt()}”"))
        return dataclasses.replace(doc, title=title, text=text, doc_id="") if removed else doc

    def add_documents(self, docs: Sequence[Document], progress: bool | None = None) -> int:
        """Index documents that come from no file (evaluation datasets); returns chunks added."""
        items = []
        queued: set[str] = set()
        for doc in docs:
            if doc.doc_id in queued:  # the same article twice in a dataset is stored once
                continue
            queued.add(doc.doc_id)
            have = self.catalog.chunk_ids([doc.doc_id])
            items.append((doc, [c for c in chunk_document(doc, self.chunk_chars, self.overlap) if c.chunk_id not in have]))
        return self._add(items, progress)

    def _remove(self, doc_ids: Sequence[str]) -> int:
        """Drop documents: the catalog first (so search never shows them), then their vectors."""
        if not doc_ids:
            return 0
        removed = len(self.catalog.chunk_ids(list(doc_ids)))
        ids = sorted(self.catalog.vector_ids(list(doc_ids)))
        self.catalog.remove_docs(list(doc_ids))
        for i in range(0, len(ids), 1000):
            self.store.delete(ids[i : i + 1000])
        return removed

    def _add(self, items: Sequence[tuple[Document, list[Chunk]]], progress: bool | None) -> int:
        """Embed and write chunks in batches: vectors first, then the catalog, so an interruption never leaves a chunk without a vector."""
        pending = [(doc, c) for doc, chunks in items for c in chunks]
        # Documents without fresh chunks (only their metadata changed) are still recorded.
        bare = [doc for doc, chunks in items if not chunks]
        if bare:
            self.catalog.add(bare, [])
        bar = _bar(len(pending), "embedding", progress)
        for i in range(0, len(pending), self.batch):
            batch = pending[i : i + self.batch]
            chunks = [c for _, c in batch]
            self._embed([item for c in chunks for item in vector_items(c.chunk_id, c.title, c.text, c.position == 0)])
            docs = list({d.doc_id: d for d, _ in batch}.values())
            self.catalog.add(docs, chunks)
            bar.update(len(batch))
        bar.close()
        return len(pending)

    def _wait_turn(self) -> bool:
        """Questions go first: wait while ``yield_while`` says an answer is on its way; False when the wait ran out.

        Once a wait has run out, the next calls do not wait again (they go on one thread) until the answers stop.
        """
        if self.yield_while is None:
            return True
        if not self.yield_while():
            self._stepped_back = False
            return True
        if self._stepped_back:
            return False
        deadline = time.monotonic() + self.max_yield_s
        while self.yield_while():
            if time.monotonic() >= deadline:
                self._stepped_back = True
                return False
            time.sleep(self.poll_s)
        return True

    def _embed(self, items: Sequence[tuple[str, str]]) -> None:
        """Embed (id, text) pairs in calls of ``piece`` texts (each after its turn) and write them to the store in one call."""
        unique = dict(items)  # a store refuses one call with an id twice (Chroma: "Expected IDs to be unique")
        texts = list(unique.values())
        step = self.piece or max(1, len(texts))
        parts = []
        for i in range(0, len(texts), step):
            idle = self._wait_turn()  # False: answers for minutes on end; go on, but on one core
            chunk = texts[i : i + step]
            parts.append(self.embedder.embed_passages(chunk) if idle else self.embedder.embed_passages(chunk, threads=1))
        self.store.upsert(list(unique), np.vstack(parts) if parts else np.zeros((0, self.embedder.dim), np.float32))

    def reconcile(self, progress: bool | None = None) -> int:
        """Repair what an interrupted run left: drop vectors with no chunk, embed chunks missing vectors; returns chunks repaired."""
        in_store = self.store.ids()
        expected = self.catalog.vector_ids()
        orphans = sorted(in_store - expected)
        for i in range(0, len(orphans), 1000):
            self.store.delete(orphans[i : i + 1000])
        missing = sorted({parent_id(v) for v in expected - in_store})
        if not missing:
            return 0
        rows = self.catalog.chunks(missing)
        bar = _bar(len(missing), "repairing", progress)
        for i in range(0, len(missing), BATCH):
            ids = missing[i : i + BATCH]
            self._embed([item for c in ids for item in vector_items(c, rows[c].title, rows[c].text, rows[c].position == 0)])
            bar.update(len(ids))
        bar.close()
        return len(missing)


class _NoBar:
    """A progress bar that shows nothing."""

    def update(self, n: int) -> None:
        """Ignore progress."""

    def close(self) -> None:
        """Nothing to close."""


def _bar(total: int, desc: str, progress: bool | None):
    """A tqdm bar on a terminal (or when asked), else nothing."""
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress or total == 0:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="chunk", file=sys.stderr)
