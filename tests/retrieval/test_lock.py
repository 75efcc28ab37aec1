"""The data-directory lock names its owner, even when refused at the instant the owner takes it."""

import fcntl
import os
import threading

import pytest

from retrieval.errors import LockedError
from retrieval.stores.lock import DataDirLock


def test_a_second_owner_is_refused_with_the_first_ones_pid(tmp_path):
    with DataDirLock(tmp_path):
        with pytest.raises(LockedError, match=rf"another newsbot process \(pid {os.getpid()}\) is using {tmp_path}"):
            DataDirLock(tmp_path).acquire()
    DataDirLock(tmp_path).acquire().release()  # released: free again


def test_refused_while_the_owner_has_not_yet_written_its_pid(tmp_path):
    # The owner's steps, slowed down: lock, then (a moment later) the pid note.
    fd = os.open(tmp_path / "newsbot.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.ftruncate(fd, 0)
    writer = threading.Timer(0.15, lambda: os.write(fd, b"4242"))
    writer.start()
    try:
        with pytest.raises(LockedError, match=r"another newsbot process \(pid 4242\)"):
            DataDirLock(tmp_path).acquire()
    finally:
        writer.join()
        os.close(fd)


def test_an_owner_that_never_writes_its_pid_is_still_reported(tmp_path):
    fd = os.open(tmp_path / "newsbot.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # e.g. its disk was full
    try:
        with pytest.raises(LockedError, match=rf"another newsbot process is using {tmp_path}"):
            DataDirLock(tmp_path).acquire()
    finally:
        os.close(fd)
