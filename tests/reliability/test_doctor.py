"""`newsbot doctor`: a healthy set-up passes; each kind of damage is named with its remedy and exits 1."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys

import pytest

from bot.app import open_index
from bot.cli.doctor import check_token, cmd_doctor
from bot.settings import Settings
from retrieval.stores.catalog import Catalog
from retrieval.stores.lock import DataDirLock
from retrieval.stores.chroma import ChromaStore
from tests.conftest import ROOT, SEEDS
from tests.fakes import FakeEmbedder

TOKEN = "123456789:AAH" + "x" * 32


@pytest.fixture
def healthy(tmp_path):
    """Settings over a real Chroma index of seeds/, built with the fake embedder."""
    settings = Settings(data_dir=tmp_path / "data", model="bundled", _env_file=None)
    index = open_index(settings, embedder=FakeEmbedder())
    index.indexer.ingest([SEEDS], progress=False)
    index.close()
    return settings


def _doctor(settings) -> tuple[int, str]:
    out = io.StringIO()
    code = cmd_doctor(None, settings, out, embedder=FakeEmbedder())
    return code, out.getvalue()


def test_a_healthy_setup_passes(healthy):
    code, text = _doctor(healthy)
    assert code == 0, text
    assert "ok       index: 3 documents, 9 passages; Chroma and the catalog agree" in text
    assert "ok       model: " in text and text.endswith("all checks passed\n")


def test_fts_out_of_step_is_a_problem(healthy):
    db = sqlite3.connect(healthy.data_dir / "catalog.sqlite3")
    db.execute("DELETE FROM fts WHERE rowid = (SELECT MIN(rowid) FROM chunks)")
    db.commit()
    db.close()
    code, text = _doctor(healthy)
    assert code == 1 and "PROBLEM  index: the lexical index has 8 rows for 9 passages" in text
    assert "newsbot ingest --rebuild" in text


def test_chroma_missing_vectors_is_a_problem(healthy):
    catalog = Catalog(healthy.data_dir / "catalog.sqlite3")
    passages = sorted(catalog.chunk_ids())[:2]
    catalog.close()
    with DataDirLock(healthy.data_dir):
        store = ChromaStore.persistent(healthy.data_dir / "chroma", FakeEmbedder.name, FakeEmbedder.dim)
        store.delete(passages)
    code, text = _doctor(healthy)
    assert code == 1 and "Chroma and the catalog disagree:" in text
    assert "for 9 passages (2 passages without their vectors, 0 vectors without a passage)" in text


def test_orphan_catalog_chunks_and_a_missing_model_are_problems(healthy, tmp_path):
    catalog = Catalog(healthy.data_dir / "catalog.sqlite3")
    catalog._db.execute("DELETE FROM chunks WHERE rowid = (SELECT MIN(rowid) FROM chunks)")
    catalog.close()
    broken = healthy.model_copy(update={"model": str(tmp_path / "missing.gguf")})
    code, text = _doctor(broken)
    assert code == 1
    assert f"PROBLEM  model: model file not found: {tmp_path / 'missing.gguf'}; set NEWSBOT_MODEL" in text
    assert "PROBLEM  index:" in text


def test_an_index_in_use_is_not_checked_but_not_failed(healthy):
    with DataDirLock(healthy.data_dir):
        code, text = _doctor(healthy)
    assert code == 0 and "ok       index: not checked: another newsbot process" in text


@pytest.mark.parametrize("token,ok", [(None, True), (TOKEN, True), ("abc", False), ("123:short", False),
                                      (TOKEN + " extra", False), ("bot" + TOKEN, False)])
def test_telegram_token_format(token, ok):
    good, detail = check_token(token)
    assert good is ok
    assert token is None or token not in detail


@pytest.mark.slow
def test_cli_doctor_exit_codes_and_no_token_in_output(tmp_path):
    env = {**os.environ, "NEWSBOT_DATA_DIR": str(tmp_path / "data"), "NEWSBOT_MODEL": "bundled"}
    assert subprocess.run([sys.executable, "-m", "bot", "ingest", str(SEEDS)], cwd=ROOT, env=env,
                          capture_output=True, timeout=300).returncode == 0
    run = subprocess.run([sys.executable, "-m", "bot", "doctor"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "all checks passed" in run.stdout, run.stdout + run.stderr
    secret = "987654321:" + "s" * 20
    run = subprocess.run([sys.executable, "-m", "bot", "doctor"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**env, "NEWSBOT_TELEGRAM_TOKEN": secret})
    assert run.returncode == 1 and "PROBLEM  telegram token" in run.stdout
    assert secret not in run.stdout + run.stderr


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_the_postgresql_database_is_checked_and_agrees_with_chroma(settings, tmp_path):
    index = open_index(settings, embedder=FakeEmbedder())
    index.indexer.ingest([SEEDS], progress=False)
    index.close()
    code, text = _doctor(settings)
    assert code == 0, text
    from retrieval.stores.pg_catalog import SCHEMA_VERSION as PG_SCHEMA

    assert f"ok       database: PostgreSQL reachable, catalog schema {PG_SCHEMA}, 3 documents, 9 passages" in text
    assert "ok       index: 3 documents, 9 passages; Chroma and the catalog agree" in text
    assert not (settings.data_dir / "catalog.sqlite3").exists()


def test_an_unreachable_database_is_a_problem_naming_the_setting_not_the_address(tmp_path):
    from tests.servers import free_port

    port = free_port()
    settings = Settings(data_dir=tmp_path / "data", model="bundled", database_url=f"postgresql://u:pw@127.0.0.1:{port}/db",
                        _env_file=None)
    code, text = _doctor(settings)
    line = next(line for line in text.splitlines() if line.startswith("PROBLEM  database:"))
    assert code == 1 and "unavailable" in line and "NEWSBOT_DATABASE_URL" in line
    assert str(port) not in text and ":pw@" not in text and "127.0.0.1" not in text
