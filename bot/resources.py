"""Files newsbot ships beside its code, found through the import system so a plain `pip install .` works from any folder.

``prompts/`` and ``seeds/`` are top-level data packages (an ``__init__.py`` and their files as package data); the seed
question set is package data of ``retrieval.quality``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _folder(package: str) -> Path:
    """The folder of an installed package (regular packages live on disk, so this is a real path)."""
    return Path(str(files(package)))


def prompts_dir() -> Path:
    """The prompt templates."""
    return _folder("prompts")


def seeds_dir() -> Path:
    """The seed articles the chat indexes on its first run."""
    return _folder("seeds")


def seed_questions() -> Path:
    """The seed question set (JSONL) used by `newsbot eval` and `newsbot bench`."""
    return _folder("retrieval.quality") / "sets" / "seed_questions.jsonl"
