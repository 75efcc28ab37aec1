"""`newsbot models` and `newsbot models pull NAME`: list and fetch GGUF models."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from bot.backends.model_files import (
    DEFAULT_MODEL,
    RECOMMENDED,
    check_gguf,
    download,
    human_size,
    list_models,
    local_path,
    parse_hf_spec,
)
from retrieval.errors import ModelError


def cmd_models(models_dir: Path, *, out: TextIO | None = None) -> int:
    """Print the recommended models, the bundled one and other local GGUF files as a table."""
    out = out or sys.stdout
    rows = [("NAME", "SIZE", "DOWNLOADED", "FOR / PATH")]
    for entry in list_models(models_dir):
        default = " (default)" if entry.name == DEFAULT_MODEL else ""
        where = str(entry.path) if entry.downloaded else f"{entry.repo_id}"
        rows.append((entry.name + default, human_size(entry.size), "yes" if entry.downloaded else "no",
                     f"{entry.machine}: {where}" if entry.machine else where))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3], file=out)
    print(f"\nModels folder: {models_dir}", file=out)
    print("Fetch one with `newsbot models pull NAME` (NAME from the table, or hf:OWNER/REPO/FILE.gguf).",
          file=out)
    return 0


def cmd_pull(name: str, models_dir: Path, endpoint: str | None, *,
             out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Download one recommended model (or an `hf:` file) with a progress bar; 0 on success."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        if name in RECOMMENDED:
            info = RECOMMENDED[name]
            repo_id, filename, sha256 = info.repo_id, info.filename, info.sha256
            what = f"{info.title} ({filename}, about {human_size(info.size)})"
        elif name.startswith("hf:"):
            (repo_id, filename), sha256 = parse_hf_spec(name), None
            what = f"{repo_id}/{filename}"
        else:
            raise ModelError(f"unknown model {name!r}; choose one of: {', '.join(RECOMMENDED)}, "
                             "or hf:OWNER/REPO/FILE.gguf")
        path = local_path(repo_id, filename, models_dir)
        if path.is_file():
            check_gguf(path)
            print(f"Already downloaded: {path}", file=out)
            return 0
        print(f"Downloading {what}…", file=out)
        path = download(repo_id, filename, models_dir, endpoint=endpoint, expected_sha256=sha256)
        check_gguf(path)
    except ModelError as exc:
        print(f"error: {exc}", file=err)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; nothing was kept", file=err)
        return 130
    print(f"Saved {path} ({human_size(path.stat().st_size)}).", file=out)
    if name == DEFAULT_MODEL:
        print("NEWSBOT_MODEL=auto (the default) will use it from now on.", file=out)
    else:
        print(f"Use it with NEWSBOT_MODEL={name if name.startswith('hf:') else path}", file=out)
    return 0
