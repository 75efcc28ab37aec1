"""Admins add articles by sending a file; the access gate has already refused everyone else's, before any download."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from telegram import Update
from telegram.ext import ContextTypes

from bot.telegram.services import Services
from retrieval.errors import InputError

SUFFIXES = {".txt", ".md", ".html", ".json"}


def safe_name(name: str) -> str:
    """A file name without folders or odd characters."""
    stem = re.sub(r"[^\w.-]+", "_", Path(name).name).strip("._") or "article"
    return stem[:120]


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
    folder = svc.settings.data_dir.expanduser() / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    file = await context.bot.get_file(doc.file_id)
    await file.download_to_drive(path)
    if path.stat().st_size > limit:
        path.unlink()
        raise InputError(f"that file is over the {limit:,}-byte limit")
    async with svc.ingesting:
        report = await asyncio.to_thread(svc.indexer.ingest, [path], False)
    if report.skipped:
        path.unlink(missing_ok=True)
        raise InputError(f"I could not read {name}: {report.skipped[0][1]}")
    titles = "; ".join(f"“{t}”" for t in dict.fromkeys(report.titles)) or name
    await update.message.reply_text(
        f"Added {titles}: {report.added} new passage{'s' if report.added != 1 else ''} "
        f"({report.documents} articles, {report.chunks} passages in all)."
    )
