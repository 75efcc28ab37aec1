"""The watched inbox folder: article files, `.url` and `.feed` requests dropped there are ingested by the running bot.

A file is taken once it has not changed for SETTLE_S (a copy in progress is left alone), moved to done/ when it
went in, or to failed/ with NAME.error.txt beside it saying why. The CLI hands work to a running bot by writing
a request file here (queue_request), since the bot owns the data directory.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from retrieval.documents import SUPPORTED_SUFFIXES
from retrieval.errors import LockedError, NewsbotError

SETTLE_S = 1.0
REQUEST_SUFFIXES = (".url", ".feed")


BOT_MARK = ".bot.pid"  # in the inbox while a bot takes work from it


def mark_bot(inbox: Path) -> None:
    """Say that this process (the bot) takes work from the inbox."""
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / BOT_MARK).write_text(str(os.getpid()), encoding="ascii")


def unmark_bot(inbox: Path) -> None:
    """This process no longer takes work from the inbox."""
    (inbox / BOT_MARK).unlink(missing_ok=True)


def bot_is_running(data_dir: Path, inbox: Path) -> bool:
    """Whether a bot holds the data directory and takes work from the inbox (not another CLI command holding it)."""
    from retrieval.stores.lock import DataDirLock

    data_dir = Path(data_dir).expanduser()
    try:
        pid = int((inbox / BOT_MARK).read_text(encoding="ascii").strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    try:
        DataDirLock(data_dir).acquire(0.0).release()
    except LockedError:
        return True
    return False


def queue_request(inbox: Path, kind: str, value: str) -> Path:
    """Write a request (``kind`` 'url' or 'feed') for the running bot; written aside then renamed, so never half-read."""
    inbox.mkdir(parents=True, exist_ok=True)
    final = inbox / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.{kind}"
    tmp = inbox / f".{final.name}.tmp"
    tmp.write_text(value.strip() + "\n", encoding="utf-8")
    os.replace(tmp, final)
    return final


@dataclass
class InboxReport:
    """Files taken from the inbox: those that went in, and (name, reason) for the others."""

    done: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


class Inbox:
    """The folder and its done/ and failed/ sub-folders."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done = path / "done"
        self.failed = path / "failed"

    def pending(self, now: float | None = None) -> list[Path]:
        """Files ready to take: visible, settled, of a type newsbot reads or a request."""
        now = time.time() if now is None else now
        if not self.path.is_dir():
            return []
        out = []
        for f in sorted(self.path.iterdir()):
            if f.name.startswith(".") or not f.is_file():
                continue
            if f.suffix.lower() in SUPPORTED_SUFFIXES + REQUEST_SUFFIXES and now - f.stat().st_mtime >= SETTLE_S:
                out.append(f)
        return out

    def process(self, handle: Callable[[Path], None], now: float | None = None, stop: Callable[[], bool] | None = None) -> InboxReport:
        """Hand each pending file to ``handle`` (which raises NewsbotError when it fails) and file it under done/ or failed/;
        once ``stop()`` is true the rest stay in the inbox for the next start."""
        report = InboxReport()
        for f in self.pending(now):
            if stop is not None and stop():
                break
            self.done.mkdir(parents=True, exist_ok=True)
            moved = _move(f, self.done)  # ingest from done/ so the stored path stays valid after the move
            try:
                handle(moved)
            except NewsbotError as exc:
                self.failed.mkdir(parents=True, exist_ok=True)
                failed = _move(moved, self.failed)
                failed.with_name(failed.name + ".error.txt").write_text(str(exc) + "\n", encoding="utf-8")
                report.failed.append((f.name, str(exc)))
                continue
            report.done.append(f.name)
        return report


def _move(path: Path, folder: Path) -> Path:
    """Move a file into ``folder``, never over another file of the same name."""
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}-{uuid.uuid4().hex[:6]}{path.suffix}"
    shutil.move(str(path), target)
    return target
