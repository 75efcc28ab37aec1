"""What to do about an error, naming newsbot's settings and commands; the CLI and Telegram edges add it to the message."""

from __future__ import annotations

from retrieval.errors import NewsbotError

# retrieval/ names no setting or command: its errors carry a remedy key, turned into words here.
HINTS = {
    "rebuild": "; run `newsbot ingest --rebuild`",
    "writable": ", or set NEWSBOT_DATA_DIR to a writable folder",
    "share": ", or use a Chroma server to share the index (NEWSBOT_CHROMA_URL)",
    "auth": "; check NEWSBOT_CHROMA_AUTH_HEADER",
    "database": " (NEWSBOT_DATABASE_URL; `newsbot doctor` checks it)",
}


def explain(error: NewsbotError) -> str:
    """The error's one-line message with the remedy that names a setting or command."""
    return f"{error}{HINTS.get(getattr(error, 'remedy', None) or '', '')}"
