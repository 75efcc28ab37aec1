"""The clock seam: what "now" and "today" mean, in NEWSBOT_TIMEZONE (default the system's), or frozen for tests and replays."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from retrieval.errors import ConfigError, InputError


class Clock(Protocol):
    """Gives the current moment as a timezone-aware datetime."""

    def now(self) -> datetime:
        """The current moment, aware, in the clock's timezone."""


class SystemClock:
    """The machine's clock, read in one timezone."""

    def __init__(self, tz: tzinfo | None = None) -> None:
        self.tz = tz or local_zone()

    def now(self) -> datetime:
        """The current moment in this clock's timezone."""
        return datetime.now(self.tz)


class FixedClock:
    """A clock stopped at one moment (`--now`, an eval question's `now`, tests)."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self.tz = at.tzinfo

    def now(self) -> datetime:
        """Always the same moment."""
        return self.at


def local_zone() -> tzinfo:
    """The system's timezone (whatever the OS says the local time is)."""
    return datetime.now().astimezone().tzinfo


def zone(name: str | None) -> tzinfo:
    """The timezone named by an IANA name such as 'Europe/Paris'; the system's when empty; ConfigError when unknown."""
    if not name:
        return local_zone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"NEWSBOT_TIMEZONE {name!r}: not a known timezone; use an IANA name such as Europe/Paris") from None


def parse_now(text: str, tz: tzinfo) -> datetime:
    """An ISO 8601 moment (`2025-06-09`, `2025-06-09T08:30`, with or without offset), aware; naive ones are in ``tz``."""
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--now {text!r}: expected an ISO 8601 date or time such as 2025-06-09T08:30") from None
    return at.replace(tzinfo=tz) if at.tzinfo is None else at.astimezone(tz)


def clock_for(now: str | None, tz: tzinfo) -> Clock:
    """A FixedClock at ``now`` when given, else the system clock in ``tz``."""
    return FixedClock(parse_now(now, tz)) if now else SystemClock(tz)
