"""Real servers on loopback ports for the tests: a Chroma server (`chroma run`) and llama_cpp.server with the bundled model.

Each is a process started by the tests, waited for until it answers, and stopped (or killed and restarted) by them.
Import the fixtures into a test module: ``from tests.servers import chroma_server, llm_server  # noqa: F401``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT

CHROMA_BIN = Path(sys.executable).with_name("chroma")
LLM_LAUNCHER = ROOT / "deploy" / "llm_server.py"
START_TIMEOUT_S = 90.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server process on a loopback port: start and wait until ``ready_path`` answers 200, stop, kill, restart."""

    def __init__(self, name: str, argv: list[str], port: int, ready_path: str, log_path: Path) -> None:
        self.name = name
        self.argv = argv
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.ready_path = ready_path
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = START_TIMEOUT_S) -> "Server":
        """Start the process and wait until it answers; fail the test with the end of its log if it does not."""
        log = open(self.log_path, "ab")
        env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                if httpx.get(self.url + self.ready_path, timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"{self.name} did not answer within {timeout_s:g} s: {self.log_tail()}")

    def kill(self) -> None:
        """Kill the process at once, as a crash would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 10 s)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> "Server":
        """Kill and start again on the same port."""
        self.kill()
        return self.start()

    def log_tail(self, n: int = 1500) -> str:
        """The end of the server's output."""
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""


def chroma(path: Path, log_dir: Path) -> Server:
    """A Chroma server over ``path`` from the installed chromadb (not started)."""
    port = free_port()
    argv = [str(CHROMA_BIN), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    return Server("chroma run", argv, port, "/api/v2/heartbeat", log_dir / f"chroma-{port}.log")


def llm(model: Path, log_dir: Path, n_ctx: int = 2048) -> Server:
    """llama_cpp.server with ``model``, through the launcher that turns weight repacking off on AMX CPUs (not started)."""
    port = free_port()
    argv = [
        sys.executable, str(LLM_LAUNCHER), "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", str(n_ctx), "--n_threads", "2",
    ]
    return Server("llama_cpp.server", argv, port, "/v1/models", log_dir / f"llm-{port}.log")


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """A Chroma server for the whole test module."""
    folder = tmp_path_factory.mktemp("chroma-server")
    server = chroma(folder / "data", folder).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def llm_server(tmp_path_factory):
    """llama_cpp.server with the bundled SmolLM2 model for the whole test module."""
    from bot.backends.model_files import bundled_model_path

    folder = tmp_path_factory.mktemp("llm-server")
    server = llm(bundled_model_path(), folder).start()
    yield server
    server.stop()
