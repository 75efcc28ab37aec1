"""Time in answers: each passage's source and date in the question's language, today's date, and dated abstentions."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Sequence

from retrieval.dates.expressions import DateRange
from retrieval.dates.extract import timestamp
from retrieval.dates.words import WEEKDAYS_EN, WEEKDAYS_FR, format_date
from retrieval.search import Hit
from retrieval.stores.catalog import StoredChunk

ADDED = {"fr": "ajouté le {date}", "en": "added {date}"}  # an ingestion time, marked: never a publication date
ALSO = {"fr": "aussi dans : ", "en": "also in: "}


def published(chunk: StoredChunk) -> datetime | None:
    """The chunk's publication date-time, None when only its ingestion time is known."""
    if chunk.estimated or not chunk.published_at:
        return None
    return datetime.fromisoformat(chunk.published_at)


def origin(chunk: StoredChunk, lang: str, tz: tzinfo | None = None) -> str:
    """'Les Échos · 9 juin 2025' (source and date, in ``tz`` when the time is known; 'added June 10, 2025' for an
    ingestion time, or the source alone when not even that is known)."""
    when = published(chunk)
    added = when is None and chunk.published_at
    if added:
        when = datetime.fromisoformat(chunk.published_at)
    if when is not None and when.tzinfo is not None and tz is not None:
        when = when.astimezone(tz)
    date = "" if when is None else ADDED[lang].format(date=format_date(when, lang)) if added else format_date(when, lang)
    if not date:
        return chunk.source or ""
    return f"{chunk.source} · {date}" if chunk.source else date


def also_in(hit: Hit, lang: str, tz: tzinfo | None = None) -> tuple[str, ...]:
    """The other documents of the hit's story, as 'source · date', without repeats."""
    return tuple(dict.fromkeys(origin(c, lang, tz) for c in hit.also))


def today(now: datetime, lang: str) -> str:
    """'lundi 9 juin 2025' / 'Monday, June 9, 2025'."""
    if lang == "fr":
        return f"{WEEKDAYS_FR[now.weekday()]} {format_date(now, lang)}"
    return f"{WEEKDAYS_EN[now.weekday()].capitalize()}, {format_date(now, lang)}"


def oldest_first(hits: Sequence[Hit]) -> list[Hit]:
    """The hits laid out oldest to newest, so the model can say what changed; undated ones keep their place at the end."""
    key = lambda h: timestamp(h.chunk.published_at) if published(h.chunk) else float("inf")  # noqa: E731
    return sorted(hits, key=key)


def newest(hits: Sequence[Hit]) -> Hit | None:
    """The most recently published of some hits (dated ones only)."""
    dated = [h for h in hits if published(h.chunk)]
    return max(dated, key=lambda h: timestamp(h.chunk.published_at)) if dated else None


def abstain_range(template: dict[str, str], lang: str, rng: DateRange, nearest: Hit | None) -> str:
    """'No article from <range> talks about it', naming the newest article on the subject with its source and date."""
    first, _, second = template[lang].partition("\n")
    text = first.format(range=rng.phrase(lang))
    if nearest is None or not second:
        return text
    quote = f"« {nearest.chunk.title} »" if lang == "fr" else f"“{nearest.chunk.title}”"
    return f"{text} {second.format(title=quote, origin=origin(nearest.chunk, lang))}"
