"""newsbot's errors. Every error a user can cause or meet is a NewsbotError whose message is one line, ready to show.

NewsbotError
├── ConfigError        an invalid setting
├── IngestError        an article file that cannot be read
│   └── FetchError     an address that cannot (or may not) be fetched, or a page with no article
├── IndexError_        the index is missing, damaged or built with another embedder
├── LockedError        another newsbot process owns the data directory
├── ModelError         a model file that is missing, corrupt, or cannot be downloaded
├── GenerationError    generation failed or timed out
└── InputError         a question that is blank or too long
"""


class NewsbotError(Exception):
    """Base class: the message is one line for the user."""


class ConfigError(NewsbotError):
    """An invalid setting."""


class IngestError(NewsbotError):
    """An article file that cannot be read."""


class FetchError(IngestError):
    """An address that cannot or may not be fetched (refused, unreachable, too big, wrong type), or a page with no article."""


class IndexError_(NewsbotError):
    """The index is missing, damaged, or was built with another embedder."""


class LockedError(NewsbotError):
    """Another newsbot process owns the data directory."""


class ModelError(NewsbotError):
    """A model file that is missing, corrupt, or cannot be downloaded."""


class GenerationError(NewsbotError):
    """Generation failed or timed out."""


class InputError(NewsbotError):
    """A question that is blank or too long."""
