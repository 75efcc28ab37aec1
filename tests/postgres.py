"""A throw-away PostgreSQL cluster on loopback for the tests, and a fresh database per test.

The cluster is made by the Debian binaries (``initdb``, ``pg_ctl``) in a temporary folder, listening only on 127.0.0.1 on
a free port, started once a session. initdb refuses root: when the tests run as root the cluster belongs to the
``postgres`` system user (made by the Debian package), else ``nobody``, and the binaries run through ``runuser``.
Each test gets its own database copied from a template (``CREATE DATABASE … TEMPLATE``), so no test sees another's rows.

Without the binaries or psycopg the PostgreSQL tests skip, saying why; with ``NEWSBOT_REQUIRE_POSTGRES=1`` (set by
``make test``, so CI never skips them silently) they fail instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_POSTGRES as _REQUIRED
from tests.servers import free_port

REQUIRE = "NEWSBOT_REQUIRE_POSTGRES"
SUPERUSER = "newsbot_test"
START_TIMEOUT_S = 60.0


def bin_dir() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian keeps them under /usr/lib/postgresql/VERSION/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def missing() -> str | None:
    """Why PostgreSQL tests cannot run here, or None."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]')"
    if bin_dir() is None:
        return "the PostgreSQL server binaries are not installed (apt-get install postgresql)"
    return None


def unavailable(reason: str):
    """Skip with the reason, or fail when the run requires PostgreSQL."""
    if _REQUIRED:
        pytest.fail(f"PostgreSQL is required ({REQUIRE}=1) but {reason}")
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


class Cluster:
    """A PostgreSQL cluster in a temporary folder: start, stop, and URLs of its databases."""

    def __init__(self) -> None:
        self.bin = bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="newsbot-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:
            self.user = "postgres" if _exists("postgres") else "nobody"
            shutil.chown(self.root, self.user)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess:
        """One PostgreSQL tool as the cluster's owner; its output in the failure when it fails."""
        argv = [str(self.bin / tool), *args]
        if self.user:
            argv = ["runuser", "-u", self.user, "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, cwd=self.root)
        if done.returncode:
            pytest.fail(f"{tool} failed ({done.returncode}): {(done.stdout + done.stderr)[-2000:]}")
        return done

    def start(self) -> "Cluster":
        """Start the server on 127.0.0.1 only (its socket in the cluster's folder) and wait until it answers."""
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.root} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", options, "-w", "-t", str(int(START_TIMEOUT_S)), "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``immediate`` is a crash, as far as clients can tell)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        """A postgresql:// URL to one database of this cluster."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        """One statement in autocommit, as the superuser (CREATE/DROP DATABASE)."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)

    def remove(self) -> None:
        """Stop the server if it runs and delete its folder."""
        subprocess.run([*(["runuser", "-u", self.user, "--"] if self.user else []), str(self.bin / "pg_ctl"), "-D", str(self.data),
                        "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def _exists(user: str) -> bool:
    """Whether a system user exists."""
    try:
        pwd.getpwnam(user)
        return True
    except KeyError:
        return False


@pytest.fixture(scope="session")
def pg_cluster():
    """The session's PostgreSQL cluster, started once (skipped, or failed when required, where it cannot run)."""
    reason = missing()
    if reason:
        unavailable(reason)
    cluster = Cluster().start()
    cluster.execute("CREATE DATABASE newsbot_template")
    yield cluster
    cluster.remove()


_serial = iter(range(1, 1_000_000))


@pytest.fixture
def pg_url(pg_cluster) -> str:
    """A fresh, empty database for one test, dropped after it."""
    name = f"t{os.getpid()}_{next(_serial)}_{int(time.time() * 1000) % 100000}"
    pg_cluster.execute(f"CREATE DATABASE {name} TEMPLATE newsbot_template")
    yield pg_cluster.url(name)
    pg_cluster.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
