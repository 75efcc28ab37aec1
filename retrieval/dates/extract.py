"""Publication dates of articles: metadata values (ISO 8601, RFC 2822, written out), a date line at the top, front matter."""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from retrieval.dates.words import month_number

_M = r"(janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|d[ée]cembre|" \
     r"january|february|march|april|may|june|july|august|september|october|november|december|" \
     r"jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
_WD = r"(?:(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|monday|tuesday|wednesday|thursday|friday|saturday|sunday),? )?"
_TIME = r"(?:,? (?:à|at) (\d{1,2})[h:](\d{2})?)?"
_DMY = re.compile(rf"\b{_WD}(\d{{1,2}})(?:er|st|nd|rd|th)? {_M},? (\d{{4}}){_TIME}", re.IGNORECASE)
_MDY = re.compile(rf"\b{_WD}{_M} (\d{{1,2}})(?:st|nd|rd|th)?,? (\d{{4}}){_TIME}", re.IGNORECASE)
_ISO = re.compile(r"\b(\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)\b")
_NUMERIC = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
# A line that is nothing but a date, or a date after a word that announces one.
_DATE_LINE = re.compile(
    r"^\s*(?:\*|_)*\s*(?:publié|publie|mis à jour|mis a jour|paru|published|updated|posted|date|le|on)?\s*(?:le|on)?\s*:?\s*",
    re.IGNORECASE,
)
TOP_LINES = 4  # a date line counts only near the top of the article (the title, a byline, the date)
# A date without a time is stored at noon UTC: that instant is the same calendar day from UTC-11 to UTC+11.
DATE_ONLY_HOUR = 12


@dataclass(frozen=True)
class Publication:
    """When a document was published (ISO 8601), its instant as a UNIX timestamp, and whether it is only the ingestion time."""

    published_at: str
    ts: float
    estimated: bool = False


def parse_date(value: str) -> str | None:
    """A date or date-time in ISO 8601, RFC 2822, '9 juin 2025', 'June 9, 2025' or 09/06/2025 as ISO 8601; None if not one."""
    value = value.strip()
    if not value:
        return None
    m = _ISO.search(value)
    if m:
        try:
            return _iso(datetime.fromisoformat(m[1].replace("Z", "+00:00").replace(" ", "T")), "T" in m[1] or " " in m[1])
        except ValueError:
            pass
    try:
        return _iso(email.utils.parsedate_to_datetime(value), True)
    except (TypeError, ValueError, IndexError):
        pass
    for pattern, order in ((_DMY, (1, 2, 3)), (_MDY, (2, 1, 3))):
        m = pattern.search(value)
        if m:
            day, month, year = (m[i] for i in order)
            try:
                when = datetime(int(year), month_number(month), int(day), int(m[4] or 0), int(m[5] or 0))
            except (ValueError, KeyError):
                continue
            return _iso(when, m[4] is not None)
    m = _NUMERIC.search(value)
    if m:  # day/month/year, the French and European order
        try:
            return date(int(m[3]), int(m[2]), int(m[1])).isoformat()
        except ValueError:
            return None
    return None


def _iso(when: datetime, has_time: bool) -> str:
    """ISO 8601: the date alone when no time was given, else the date-time (with its offset when it had one)."""
    return when.isoformat(timespec="seconds") if has_time else when.date().isoformat()


def timestamp(published_at: str) -> float:
    """The UNIX time of an ISO 8601 value: a date alone is noon UTC, a naive time is taken as UTC."""
    when = datetime.fromisoformat(published_at)
    if len(published_at) <= 10:
        when = datetime.combine(when.date(), time(DATE_ONLY_HOUR))
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()


def date_in_text(text: str) -> str | None:
    """The date of a date line among the first lines of an article ('Publié le 9 juin 2025', 'June 9, 2025', 'Date: …')."""
    lines = [line for line in text.split("\n") if line.strip()][:TOP_LINES]
    for line in lines:
        if len(line) > 120:  # a paragraph, not a date line: a date in it is about the news, not the article
            continue
        rest = _DATE_LINE.sub("", line, count=1)
        found = parse_date(rest)
        if found and re.match(r"^\W*(?:\w+,? )?\d|^\W*\w+ \d", rest):
            return found
    return None


def front_matter(text: str) -> tuple[dict[str, str], str]:
    """A Markdown front matter block (--- key: value … ---) as a dict, and the text after it."""
    m = re.match(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", text, re.DOTALL)
    if not m:
        return {}, text
    meta = {}
    for line in m[1].split("\n"):
        key, sep, value = line.partition(":")
        if sep and key.strip():
            meta[key.strip().lower()] = value.strip().strip("'\"")
    return meta, text[m.end():]


def publication(date_value: str | None, text: str, ingested: datetime) -> Publication:
    """The document's publication: its metadata date, else a date line at its top, else the ingestion time, marked so."""
    for candidate in (parse_date(date_value) if date_value else None, date_in_text(text)):
        if candidate:
            return Publication(candidate, timestamp(candidate))
    at = ingested.astimezone(timezone.utc)
    return Publication(at.isoformat(timespec="seconds"), at.timestamp(), estimated=True)
