"""Date expressions in questions resolved against a frozen clock: the measured set, time zones, boundaries, text taken out."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from retrieval.dates.clock import FixedClock, SystemClock, clock_for, parse_now, zone
from retrieval.dates.expressions import resolve
from retrieval.errors import ConfigError, InputError

SET = Path(__file__).parent.parent / "data" / "dates" / "expressions.jsonl"
ROWS = [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines() if line.strip()]
PARIS = ZoneInfo("Europe/Paris")


def test_the_set_is_large_and_holds_sentences_without_dates():
    """At least 60 expressions, some of which must get no range."""
    assert len(ROWS) >= 60
    assert sum(r["start"] is None for r in ROWS) >= 10


@pytest.mark.parametrize("row", ROWS, ids=[r["text"][:40] for r in ROWS])
def test_every_expression_resolves_to_its_range(row):
    """Each question of the set gets exactly the expected [start, end), or no range when it names no date."""
    tz = ZoneInfo(row["tz"])
    got = resolve(row["text"], datetime.fromisoformat(row["now"]).replace(tzinfo=tz)).range
    if row["start"] is None:
        assert got is None
    else:
        assert got is not None
        assert (got.start, got.end) == tuple(datetime.fromisoformat(row[k]).replace(tzinfo=tz) for k in ("start", "end"))


def test_time_words_are_taken_out_of_the_searched_text():
    """'hier' is not searched for; the rest of the question is kept."""
    q = resolve("Que s'est-il passé hier avec Scale AI ?", datetime(2025, 6, 9, 10, tzinfo=PARIS))
    assert "hier" not in q.text and "Scale AI" in q.text


def test_today_depends_on_the_timezone():
    """23:30 UTC on June 8 is already June 9 in Paris, still June 8 in New York."""
    at = datetime(2025, 6, 8, 23, 30, tzinfo=timezone.utc)
    paris = resolve("aujourd'hui", at.astimezone(PARIS)).range
    ny = resolve("today", at.astimezone(ZoneInfo("America/New_York"))).range
    assert paris.start.date().isoformat() == "2025-06-09"
    assert ny.start.date().isoformat() == "2025-06-08"
    assert paris.contains(at) and ny.contains(at)


def test_year_boundary_yesterday_and_last_month():
    """On January 1st, yesterday is December 31st of the year before, and so is last month."""
    now = datetime(2026, 1, 1, 8, tzinfo=PARIS)
    assert resolve("hier", now).range.start == datetime(2025, 12, 31, tzinfo=PARIS)
    assert resolve("last month", now).range.start == datetime(2025, 12, 1, tzinfo=PARIS)


def test_month_boundary_and_a_month_to_come_is_last_years():
    """'il y a 2 jours' on March 1st is February 27th; 'en juillet' asked in June is last July."""
    now = datetime(2025, 3, 1, 9, tzinfo=PARIS)
    assert resolve("il y a 2 jours", now).range.start == datetime(2025, 2, 27, tzinfo=PARIS)
    assert resolve("en juillet", datetime(2025, 6, 9, tzinfo=PARIS)).range.start == datetime(2024, 7, 1, tzinfo=PARIS)


def test_last_sunday_on_a_sunday_is_a_week_ago():
    """'dimanche dernier' asked on a Sunday is not today."""
    sunday = datetime(2025, 6, 8, 12, tzinfo=PARIS)
    assert resolve("dimanche dernier", sunday).range.start == datetime(2025, 6, 1, tzinfo=PARIS)


def test_a_day_across_a_dst_change_is_23_hours_long():
    """Local midnights, not 24-hour steps: the range of March 30, 2025 in Paris is 23 hours."""
    r = resolve("le 30 mars 2025", datetime(2025, 6, 9, tzinfo=PARIS)).range
    assert (r.end.astimezone(timezone.utc) - r.start.astimezone(timezone.utc)).total_seconds() == 23 * 3600


def test_an_impossible_date_gets_no_range():
    """'le 31 février' is not a date."""
    assert resolve("le 31 février", datetime(2025, 6, 9, tzinfo=PARIS)).range is None


@pytest.mark.parametrize("q", ["latest on the US–China talks", "Quoi de neuf sur Mistral ?", "dernières nouvelles de la BCE", "What's new with Nvidia?"])
def test_recency_is_seen_when_asked(q):
    """Questions asking for the newest are marked, and the words are not searched."""
    got = resolve(q, datetime(2025, 6, 9, tzinfo=PARIS))
    assert got.recency and got.range is None
    assert not any(w in got.text.lower() for w in ("latest", "quoi de neuf", "dernières nouvelles", "what's new"))


@pytest.mark.parametrize("q", ["Who runs Mistral AI?", "Qui dirige la BCE ?", "What did the last report say?"])
def test_recency_is_not_seen_otherwise(q):
    """Ordinary questions are not ranked by date."""
    assert not resolve(q, datetime(2025, 6, 9, tzinfo=PARIS)).recency


def test_labels_in_both_languages():
    """Ranges in words, in the question's language."""
    r = resolve("entre le 3 et le 5 juin", datetime(2025, 6, 9, tzinfo=PARIS)).range
    assert r.label("fr") == "du 3 juin 2025 au 5 juin 2025"
    assert r.label("en") == "from June 3, 2025 to June 5, 2025"
    assert resolve("hier", datetime(2025, 6, 2, tzinfo=PARIS)).range.label("fr") == "1er juin 2025"


def test_clock_seam():
    """--now freezes the clock in the configured zone; an offset is converted; bad input is one clear error."""
    clock = clock_for("2025-06-09T08:30", PARIS)
    assert isinstance(clock, FixedClock) and clock.now() == datetime(2025, 6, 9, 8, 30, tzinfo=PARIS)
    assert parse_now("2025-06-09T06:30Z", PARIS) == datetime(2025, 6, 9, 8, 30, tzinfo=PARIS)
    assert isinstance(clock_for(None, PARIS), SystemClock) and clock_for(None, PARIS).now().tzinfo is PARIS
    with pytest.raises(InputError, match="ISO 8601"):
        parse_now("next tuesday", PARIS)
    with pytest.raises(ConfigError, match="NEWSBOT_TIMEZONE"):
        zone("Mars/Olympus_Mons")
    assert zone(None) is not None and zone("Europe/Paris") == PARIS


def test_cost_under_2_ms_a_question():
    """Resolution stays far under the 2 ms budget per question (median over the set, generous for slow CI)."""
    import time

    now = datetime(2025, 6, 9, tzinfo=PARIS)
    costs = []
    for row in ROWS:
        started = time.perf_counter()
        resolve(row["text"], now)
        costs.append(time.perf_counter() - started)
    assert sorted(costs)[len(costs) // 2] < 0.002
