"""Retrieval benchmarks: full-search latency at growing corpus sizes, and ingestion throughput against the embedder alone."""

from __future__ import annotations

import itertools
import random
import re
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Sequence

import numpy as np

from retrieval.stores.catalog import Catalog
from retrieval.chunking import Chunk
from retrieval.dates.expressions import DateRange
from retrieval.documents import Document, read_documents
from retrieval.ports import Embedder
from retrieval.ingest import BATCH, Indexer, vector_items
from retrieval.search import Searcher
from retrieval.stores.chroma import ChromaStore


SYNTHETIC_START = date(2025, 1, 1)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of ``values``, by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))]


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def synthetic_corpus(vocabulary: Sequence[str], n: int, dim: int, seed: int = 7) -> tuple[list[Chunk], list[Document], np.ndarray]:
    """``n`` passages of 90 words, ten per document, with random unit vectors, the documents one a day over a year.

    Words follow Zipf's law over the given vocabulary plus 50,000 made-up words, as words do in real text: a
    vocabulary of a few hundred words drawn uniformly would put every query term in ~12% of the passages,
    a worst case no news collection reaches.
    """
    rng = random.Random(seed)
    syllables = [c + v for c in "bcdfglmnprstv" for v in "aeiou"]
    made_up = {"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(60_000)}
    words = list(vocabulary) + sorted(made_up - set(vocabulary))[:50_000]
    rng.shuffle(words)
    cumulative = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(words))))
    chunks, docs = [], []
    for d in range(0, n, 10):
        title = " ".join(rng.choices(words, cum_weights=cumulative, k=6))
        day = (SYNTHETIC_START + timedelta(days=(d // 10) % 365)).isoformat()
        doc = Document(title=title, text="", path=f"/synthetic/{d // 10}.txt", published_at=day, doc_id=f"syn{d // 10:07d}")
        docs.append(doc)
        for i in range(d, min(n, d + 10)):
            text = " ".join(rng.choices(words, cum_weights=cumulative, k=90))
            chunks.append(Chunk(f"syn{i:08d}", doc.doc_id, title, text, i - d, 0, len(text)))
    vectors = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return chunks, docs, vectors


def search_latency(embedder: Embedder, sizes: Sequence[int], queries: Sequence[str], vocabulary: Sequence[str], progress=print,
                   plain: bool = True, database_url: str | None = None) -> dict:
    """p50/p99 of one full search (embed, dense, lexical, fuse, fetch) and RSS at each corpus size, without a date range
    (unless ``plain`` is false) and with one of a week (2% of the passages).

    Every timed search embeds its question (the searcher's cache of recent questions is off), as a new question does;
    ``repeat_p50_ms`` is the same within a week for questions asked before, and ``encoder_p50_ms`` the query encoder
    alone on the same questions in the same run, so the rest of a search reads as the difference.

    With ``database_url`` (an empty PostgreSQL database) the same corpus also goes into a PostgreSQL catalog, and each
    query is timed on both catalogs in turn, so load on the machine weighs on both alike: ``pg_*`` figures and
    ``pg_ratio`` (PostgreSQL p50 over SQLite p50) come from the same run as the SQLite baseline.
    """
    out: dict = {"p50_ms": {}, "p99_ms": {}, "rss_mb": {}, "week_p50_ms": {}, "week_p99_ms": {}, "repeat_p50_ms": {},
                 "encoder_p50_ms": {},
                 "corpus": "synthetic text (Zipf over the seed vocabulary + 50k made-up words), random unit vectors"}
    if database_url:
        out.update({"pg_p50_ms": {}, "pg_p99_ms": {}, "pg_week_p50_ms": {}, "pg_week_p99_ms": {}, "pg_ratio": {}, "pg_week_ratio": {}})
    week = DateRange(datetime.combine(SYNTHETIC_START + timedelta(days=100), datetime.min.time(), timezone.utc),
                     datetime.combine(SYNTHETIC_START + timedelta(days=107), datetime.min.time(), timezone.utc))

    def timed(call, items) -> list[float]:
        times = []
        for item in items:
            started = time.perf_counter()
            call(item)
            times.append((time.perf_counter() - started) * 1000)
        return times

    with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as tmp:
        for size in sizes:
            progress(f"retrieval: building a {size:,}-passage index …")
            folder = Path(tmp) / str(size)
            folder.mkdir()
            store = ChromaStore.persistent(folder / "chroma", embedder.name, embedder.dim)
            catalogs = {"": Catalog(folder / "catalog.sqlite3")}
            if database_url:
                catalogs["pg_"] = _empty_pg_catalog(database_url)
            chunks, docs, vectors = synthetic_corpus(vocabulary, size, embedder.dim)
            for i in range(0, size, 5000):
                store.upsert([c.chunk_id for c in chunks[i : i + 5000]], vectors[i : i + 5000])
            for catalog in catalogs.values():
                catalog.add(docs, chunks)
            searchers = {name: Searcher(embedder, store, catalog, query_cache=0) for name, catalog in catalogs.items()}
            key = str(size)
            for name, within in (("", None), ("week_", week)):
                if within is None and not plain:
                    continue
                times: dict[str, list[float]] = {which: [] for which in searchers}
                for q in queries[:5]:  # warm caches
                    for searcher in searchers.values():
                        searcher.search(q, 5, within=within)
                for q in queries:
                    for which, searcher in searchers.items():
                        started = time.perf_counter()
                        searcher.search(q, 5, within=within)
                        times[which].append((time.perf_counter() - started) * 1000)
                for which, t in times.items():
                    out[f"{which}{name}p50_ms"][key] = round(statistics.median(t), 2)
                    out[f"{which}{name}p99_ms"][key] = round(percentile(t, 99), 2)
                if database_url:
                    out[f"pg_{name}ratio"][key] = round(out[f"pg_{name}p50_ms"][key] / out[f"{name}p50_ms"][key], 2)
            out["encoder_p50_ms"][key] = round(statistics.median(timed(embedder.embed_query, queries)), 2)
            repeats = Searcher(embedder, store, catalogs[""])
            for q in dict.fromkeys(queries):  # each question asked once before
                repeats.search(q, 5, within=week)
            out["repeat_p50_ms"][key] = round(statistics.median(timed(lambda q: repeats.search(q, 5, within=week), queries)), 2)
            out["rss_mb"][key] = round(rss_mb(), 1)
            repeats.close()
            for which, searcher in searchers.items():
                searcher.close()
                if which:
                    catalogs[which].wipe()
                catalogs[which].close()
    return out


def _empty_pg_catalog(database_url: str):
    """The PostgreSQL catalog the benchmark fills and empties again; it refuses a database that holds articles."""
    from retrieval.errors import NewsbotError
    from retrieval.stores.pg_catalog import PgCatalog

    catalog = PgCatalog(database_url)
    if catalog.counts() != (0, 0):
        catalog.close()
        raise NewsbotError("the benchmark fills and then empties its PostgreSQL database: give it an empty one")
    return catalog


def synthetic_articles(seed_files: Sequence[Path], folder: Path, documents: int, seed: int = 3) -> Path:
    """``documents`` distinct articles of real seed sentences, recombined into several paragraphs, in ``folder``/articles."""
    sentences: list[str] = []
    for f in seed_files:
        for doc in read_documents(f):
            sentences += [s for s in re.split(r"(?<=[.!?])\s+", doc.text) if len(s) > 40]
    rng = random.Random(seed)
    articles = folder / "articles"
    articles.mkdir()
    for i in range(documents):
        paras = [" ".join(rng.sample(sentences, 4)) for _ in range(4)]
        (articles / f"{i:04d}.txt").write_text(f"Article {i}\n" + "\n".join(paras), encoding="utf-8")
    return articles


def ingestion_speed(embedder: Embedder, seed_files: Sequence[Path], documents: int = 40, progress=print) -> dict:
    """Chunks per second through the whole pipeline (parse, chunk, embed, write) and through the embedder alone."""
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as tmp:
        articles = synthetic_articles(seed_files, Path(tmp), documents)
        store = ChromaStore.persistent(Path(tmp) / "chroma", embedder.name, embedder.dim)
        catalog = Catalog(Path(tmp) / "catalog.sqlite3")
        indexer = Indexer(embedder, store, catalog)
        progress(f"ingestion: {documents} articles …")
        started = time.perf_counter()
        report = indexer.ingest([articles], progress=False)
        pipeline_s = time.perf_counter() - started
        rows = catalog.chunks(sorted(catalog.chunk_ids()))
        # The embedder alone on exactly what the pipeline embedded: each passage and its sub-chunk/headline vectors.
        texts = [t for r in rows.values() for _, t in vector_items(r.chunk_id, r.title, r.text, r.position == 0)]
        started = time.perf_counter()
        for i in range(0, len(texts), BATCH):
            embedder.embed_passages(texts[i : i + BATCH])
        embed_s = time.perf_counter() - started
        catalog.close()
    return {
        "chunks": report.chunks,
        "vectors": len(texts),
        "chunks_per_s": round(report.chunks / pipeline_s, 2),
        "embedder_chunks_per_s": round(report.chunks / embed_s, 2),
    }
