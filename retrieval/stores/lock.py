"""One owner per data directory: an exclusive advisory lock held for the life of the process."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from retrieval.errors import LockedError

LOCK_NAME = "newsbot.lock"


class DataDirLock:
    """Exclusive ``flock`` on DATA_DIR/newsbot.lock; the kernel releases it if the process dies."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self, wait_s: float = 0.0, on_wait=None) -> "DataDirLock":
        """Take the lock, waiting up to ``wait_s`` seconds (calling ``on_wait`` once), else raise LockedError."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise LockedError(
                f"cannot open {self.path} ({exc.strerror or exc}); make {self.path.parent} writable by this user",
                remedy="writable",
            ) from exc
        deadline = time.monotonic() + wait_s
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    owner = _owner(fd)
                    os.close(fd)
                    raise LockedError(
                        f"another newsbot process{owner} is using {self.path.parent}; stop it first", remedy="share"
                    ) from None
                if on_wait and not told:
                    on_wait(f"waiting for another newsbot process to release {self.path.parent} …")
                    told = True
                time.sleep(0.2)
        try:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        except OSError:  # a full disk: the lock is held all the same, only the pid note is missing
            pass
        self._fd = fd
        return self

    def release(self) -> None:
        """Release the lock."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "DataDirLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _owner(fd: int, patience_s: float = 0.5) -> str:
    """' (pid N)' from the lock file's note, or '' when it has none.

    The owner writes its pid just after taking the lock, so a process refused at that very moment finds the
    note empty: it looks again for up to ``patience_s`` (measured: two ingests started together hit this).
    """
    deadline = time.monotonic() + patience_s
    while True:
        try:
            note = os.pread(fd, 32, 0).decode("ascii", "ignore").strip()
        except OSError:
            return ""
        if note.isdigit():
            return f" (pid {note})"
        if time.monotonic() >= deadline:
            return ""
        time.sleep(0.02)
