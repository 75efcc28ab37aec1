"""Files and folders only their owner can read: the data directory holds users' messages and the index."""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) if needed and make it 0700; returns it."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)  # mkdir's mode is masked by the umask and ignored for an existing folder
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if missing and make it 0600, before SQLite opens it (its -wal/-shm files copy the mode)."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE))
    os.chmod(path, FILE_MODE)
    for suffix in ("-wal", "-shm", "-journal"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.chmod(side, FILE_MODE)
    return path
