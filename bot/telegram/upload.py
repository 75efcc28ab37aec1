"""Admins add articles by sending a file; the access gate has already refused everyone else's, before any download."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import time
from pathlib import Path

from telegram import Update
from telegram.ext import ContextTypes

from bot.telegram.services import Services
from retrieval.errors import InputError
from retrieval.stores.private import private_dir

SUFFIXES = {".txt", ".md", ".html", ".json"}


def safe_name(name: str) -> str:
    """A file name without folders or odd characters."""
    stem = re.sub(r"[^\w.-]+", "_", Path(name).name).strip("._") or "article"
    return stem[:120]


def unique_path(folder: Path, name: str) -> Path:
    """A new file in ``folder`` named after ``name``, never an existing one: two uploads never share a path.

    The indexer treats a path it has seen as the same article edited, and drops the passages that the new file no
    longer has; so ``report.txt`` and ``../report.txt`` (both ``report.txt`` once cleaned) must not share one.
    """
    stem, suffix = Path(name).stem, Path(name).suffix
    while True:
        path = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(4)}-{stem}{suffix}"
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # claimed: no other upload gets it
            return path
        except FileExistsError:
            continue


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Check the file's type and size, download it to the data directory, ingest it off the loop, and report."""
    svc: Services = context.bot_data["services"]
    doc = update.message.document
    name = safe_name(doc.file_name or "article.txt")
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"I can add {', '.join(sorted(SUFFIXES))} files, not {suffix or 'files without an extension'}")
    limit = svc.settings.upload_max_bytes
    if doc.file_size is not None and doc.file_size > limit:
        raise InputError(f"that file is {doc.file_size:,} bytes; the limit is {limit:,}")
    folder = private_dir(svc.settings.data_dir.expanduser() / "uploads")
    path = unique_path(folder, name)
    file = await context.bot.get_file(doc.file_id)
    try:
        await file.download_to_drive(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if path.stat().st_size > limit:
        path.unlink()
        raise InputError(f"that file is over the {limit:,}-byte limit")
    async with svc.ingesting:
        # One new file, never a folder: nothing already in the index can be found stale and removed.
        report = await asyncio.to_thread(svc.indexer.ingest, [path], False)
    if report.skipped:
        path.unlink(missing_ok=True)
        raise InputError(f"I could not read {name}: {report.skipped[0][1]}")
    titles = "; ".join(f"“{t}”" for t in dict.fromkeys(report.titles)) or name
    await update.message.reply_text(
        f"Added {titles}: {report.added} new passage{'s' if report.added != 1 else ''} "
        f"({report.documents} articles, {report.chunks} passages in all)."
    )
