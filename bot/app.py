"""The composition root: builds the index, the model worker and the answer loop from one Settings object."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from bot.core.answer import AnswerConfig, Answerer
from bot.core.prompting import Templates
from bot.settings import Settings, physical_cores
from retrieval.stores.catalog import Catalog, open_catalog
from retrieval.embedding.e5 import E5Embedder
from retrieval.ports import Embedder, VectorStore
from retrieval.errors import ConfigError, ModelError
from retrieval.fusion import DEFAULT_ABSTAIN_THRESHOLD, PG_ABSTAIN_THRESHOLD
from retrieval.ingest import Indexer
from retrieval.stores.lock import DataDirLock
from retrieval.stores.private import private_dir
from retrieval.stores.pg import is_postgres
from retrieval.search import Searcher
from retrieval.stores.chroma import ChromaStore

log = logging.getLogger(__name__)
OFFLINE_FALLBACK = "extractive"  # what `auto` answers with when no model is downloaded: "extractive" or "bundled"


@dataclass
class Index:
    """The retrieval side: embedder, vector store, catalog, searcher and indexer over one data directory."""

    embedder: Embedder
    store: VectorStore
    catalog: Catalog
    searcher: Searcher
    indexer: Indexer
    lock: DataDirLock | None = None

    def close(self) -> None:
        """Stop the searcher's thread, close the catalog and the vector store, and release the data-directory lock."""
        self.searcher.close()
        self.catalog.close()
        close_store = getattr(self.store, "close", None)
        if close_store:
            close_store()
        if self.lock:
            self.lock.release()


def ensure_data_dir(settings: Settings) -> Path:
    """Create the data directory, or raise ConfigError naming it."""
    path = settings.data_dir.expanduser()
    try:
        private_dir(path)  # conversations, the catalog and the models: the service user's only (docs/reliability.md)
        private_dir(path / "models")
    except OSError as exc:
        raise ConfigError(f"NEWSBOT_DATA_DIR: cannot create {path} ({exc.strerror or exc})") from exc
    return path


def make_embedder(settings: Settings) -> E5Embedder:
    """The multilingual encoder, with the configured threads and query backend."""
    return E5Embedder(num_threads=settings.embed_threads, query_backend=settings.query_encoder, query_threads=settings.query_threads or physical_cores())


def open_index(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    store: VectorStore | None = None,
    lock: bool = True,
    on_wait: Callable[[str], None] | None = None,
    wait_s: float = 0.0,
) -> Index:
    """Open (creating if needed) the index in the data directory, holding its lock.

    With NEWSBOT_CHROMA_URL the vectors live on a Chroma server that any number of processes share, so the data-directory
    lock is taken shared: the catalog beside it is a SQLite file that processes on the same host write safely
    (docs/deploy.md), and `ingest --rebuild`, which needs the lock alone, cannot delete it under them.
    With NEWSBOT_DATABASE_URL as well, nothing of the index is in the data directory: no lock is taken, and processes
    on any number of hosts share the PostgreSQL catalog and the Chroma server.
    """
    data_dir = ensure_data_dir(settings)
    shared = bool(settings.chroma_url)
    lock = lock and not (settings.database_url and settings.chroma_url)
    held = DataDirLock(data_dir).acquire(wait_s=wait_s, on_wait=on_wait, shared=shared) if lock else None
    try:
        embedder = embedder or make_embedder(settings)
        if store is None and settings.chroma_url:
            store = ChromaStore.http(settings.chroma_url, settings.chroma_headers(), embedder.name, embedder.dim)
        store = store or ChromaStore.persistent(data_dir / "chroma", embedder.name, embedder.dim)
        catalog = open_catalog(data_dir / "catalog.sqlite3", settings.database_url)
    except BaseException:
        if held:
            held.release()
        raise
    searcher = Searcher(embedder, store, catalog, half_life_days=settings.recency_half_life_days)
    indexer = Indexer(embedder, store, catalog, settings.chunk_chars, settings.chunk_overlap)
    return Index(embedder, store, catalog, searcher, indexer, held)


def answer_config(settings: Settings, parallel: int = 1) -> AnswerConfig:
    """The answer loop's knobs from Settings, the one source of their defaults."""
    threshold = settings.abstain_threshold
    if threshold is None:  # calibrated for each catalog's lexical ranker
        threshold = PG_ABSTAIN_THRESHOLD if is_postgres(settings.database_url) else DEFAULT_ABSTAIN_THRESHOLD
    return AnswerConfig(
        top_k=settings.top_k,
        max_tokens=settings.max_tokens,
        max_question_chars=settings.max_question_chars,
        abstain_threshold=threshold,
        timeout_s=settings.generation_timeout_s,
        queue_size=settings.queue_size,
        parallel=parallel,
        evidence=settings.evidence,
    )


def load_generator(settings: Settings, *, interactive: bool, confirm=None, notice=None):
    """The LLM server's client when NEWSBOT_LLM_BASE_URL is set; else resolve NEWSBOT_MODEL to a file, check it, and load it."""
    if settings.llm_base_url:
        from bot.backends.remote import RemoteGenerator

        return RemoteGenerator(
            settings.llm_base_url,
            n_ctx=settings.llm_n_ctx,
            api_key=settings.llm_api_key,
            model=settings.llm_model,
            temperature=settings.temperature,
            read_timeout_s=settings.generation_timeout_s,
        )
    from bot.backends.extractive import ExtractiveGenerator
    from bot.backends.model_files import DEFAULT_MODEL, bundled_model_path, check_gguf, resolve_model

    say = notice or (lambda msg: log.warning("%s", msg))
    if settings.model == "extractive":
        return ExtractiveGenerator()
    heard: list[str] = []
    auto = settings.model == "auto"
    try:
        path = resolve_model(
            settings.model,
            settings.models_dir,
            interactive=interactive,
            endpoint=settings.hf_endpoint,
            confirm=confirm,
            notice=heard.append if auto else say,
        )
    except ModelError:
        if not (auto and OFFLINE_FALLBACK == "extractive"):
            raise
        path = None  # no model at all, not even the bundled one: the extractive answerer still answers
    if auto and OFFLINE_FALLBACK == "extractive" and (path is None or path == _bundled_or_none(bundled_model_path)):
        # The extractive answerer scores better than the bundled model (docs/answers.md): it is the offline default.
        say(f"No model downloaded: answering with quotes from the articles; for fuller answers run `newsbot models pull {DEFAULT_MODEL}`.")
        return ExtractiveGenerator()
    for msg in heard:
        say(msg)
    from bot.backends.llama import LlamaGenerator

    check_gguf(path)
    return LlamaGenerator(
        path,
        n_ctx=settings.n_ctx,
        n_threads=settings.resolved_threads(),
        n_gpu_layers=settings.resolved_gpu_layers(),
        temperature=settings.temperature,
        repack=settings.cpu_repack,
    )


def _bundled_or_none(bundled_model_path) -> Path | None:
    """The bundled model's path, or None when it is not installed."""
    try:
        return bundled_model_path()
    except ModelError:
        return None


def build_answerer(settings: Settings, index: Index, generator) -> Answerer:
    """The answer loop over an open index and a loaded generator, with its own worker thread (one per server slot when remote)."""
    from bot.backends.remote import RemoteGenerator

    from bot.backends.extractive import ExtractiveGenerator

    if isinstance(generator, ExtractiveGenerator) and generator.embedder is None:
        generator.embedder = index.embedder  # sentences ranked across languages by the same encoder as the search
    parallel = settings.llm_parallel if isinstance(generator, RemoteGenerator) else 1
    templates = Templates.load()
    if _is_bundled(generator):
        # SmolLM2-135M copies the hint sentence (bot.core.prompting) as its answer: seed set accuracy 0.41 without it,
        # 0.30 with it, while the 1.5B stand-in gains from it (docs/answers.md). The bundled model is prompted without it.
        templates = replace(templates, hint="")
    return Answerer(index.searcher, generator, templates, answer_config(settings, parallel), settings.clock())


def _is_bundled(generator) -> bool:
    """Whether ``generator`` runs the bundled SmolLM2-135M file."""
    from bot.backends.model_files import bundled_model_path

    path = getattr(generator, "path", None)
    return path is not None and path == _bundled_or_none(bundled_model_path)
