"""Date expressions in a question ("hier", "last week", "entre le 3 et le 5 juin") resolved against the clock into a range.

Hand rules, measured against dateparser's search_dates (docs/retrieval.md): dateparser finds single dates but not
ranges ("la semaine dernière", "depuis lundi"), and it takes ordinary words for dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Callable

from retrieval.dates.words import MONTHS_EN, MONTHS_FR, NUMBERS, WEEKDAYS_EN, WEEKDAYS_FR, format_date, month_number, number, weekday_number

_M = "(" + "|".join(
    [m.lower() for m in MONTHS_FR] + ["fevrier", "aout", "decembre"] + [m.lower() for m in MONTHS_EN]
    + ["jan", "feb", "mar", "apr", "jun", "jul", "aug", "sept", "sep", "oct", "nov", "dec"]
) + r")(?:\.|\b)"  # a whole word: "en Mar" of "en Martinique", "in Aug" of "in Augsburg" are no months
_W = "(" + "|".join(WEEKDAYS_FR + WEEKDAYS_EN) + ")s?"
_N = r"(\d{1,3}|" + "|".join(sorted(NUMBERS, key=len, reverse=True)) + ")"
_D = r"(\d{1,2})(?:er|st|nd|rd|th)?"
_Y = r"(\d{4})"
_RECENCY = re.compile(
    r"\b(derni[èe]res? nouvelles|quoi de neuf|r[ée]cemment|les plus r[ée]cent(?:e|s|es)?|derniers articles|"
    r"latest|newest|most recent|what'?s new|recent(?:ly)?|r[ée]cent(?:e|s|es)?)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DateRange:
    """[start, end) as timezone-aware datetimes, with the words of the question it came from."""

    start: datetime
    end: datetime
    expression: str = ""

    def contains(self, when: datetime) -> bool:
        """True when ``when`` (aware) falls in the range."""
        return self.start <= when < self.end

    def label(self, lang: str) -> str:
        """The range in words: '9 juin 2025', 'du 2 au 8 juin 2025', 'June 2 – June 8, 2025'."""
        last = (self.end - timedelta(microseconds=1)).date()
        first = self.start.date()
        if first == last:
            return format_date(first, lang)
        if lang == "fr":
            return f"du {format_date(first, lang)} au {format_date(last, lang)}"
        return f"from {format_date(first, lang)} to {format_date(last, lang)}"


    def until(self, now: datetime) -> "DateRange":
        """The range cut at ``now``: nothing is published later (what makes a replay with --now faithful)."""
        return DateRange(self.start, min(self.end, max(self.start, now)), self.expression)

    def phrase(self, lang: str) -> str:
        """The range after a verb: 'le 9 juin 2025' / 'on June 9, 2025', else as label() says it."""
        label = self.label(lang)
        if (self.end - timedelta(microseconds=1)).date() != self.start.date():
            return label
        return f"le {label}" if lang == "fr" else f"on {label}"


@dataclass(frozen=True)
class TimeQuery:
    """A question's time: its range (if it names one), whether it asks for the newest, and the text left to search."""

    text: str
    range: DateRange | None
    recency: bool


Span = tuple[date | datetime, date | datetime]  # start inclusive, end exclusive; dates mean local midnights


def _days(first: date, n: int = 1) -> Span:
    """``n`` whole days from ``first``."""
    return first, first + timedelta(days=n)


def _month(year: int, month: int) -> Span:
    """One calendar month."""
    return date(year, month, 1), date(year + (month == 12), month % 12 + 1, 1)


def _past_year(today: date, month: int, day: int = 1) -> int:
    """The year of a month (and day) named without one: this year, unless that is still to come."""
    return today.year if (month, day) <= (today.month, today.day) else today.year - 1


def _weekday_on_or_before(today: date, wd: int, strictly: bool = False) -> date:
    """The latest such weekday up to today (before today when ``strictly``: 'dimanche dernier' on a Sunday is a week ago)."""
    back = (today.weekday() - wd) % 7
    return today - timedelta(days=back or (7 if strictly else 0))


def _monday(today: date) -> date:
    """The Monday of today's week (ISO weeks start on Monday, in both languages here)."""
    return today - timedelta(days=today.weekday())


def _day(today: date, d: str, m: str, y: str | None) -> date:
    """A day named by its number, month and optional year."""
    month, day = month_number(m), int(d)
    return date(int(y) if y else _past_year(today, month, day), month, day)


def _between(today: date, d1: str, m1: str | None, d2: str, m2: str, y: str | None) -> Span:
    """'entre le 3 et le 5 juin': both days, inclusive."""
    last = _day(today, d2, m2, y)
    first = date(last.year, month_number(m1) if m1 else last.month, int(d1))
    if first > last:  # 'entre le 28 décembre et le 3 janvier'
        first = first.replace(year=first.year - 1)
    return first, last + timedelta(days=1)


Rule = tuple[str, Callable[[re.Match, datetime], Span]]


def _rules() -> list[Rule]:
    """(pattern, span maker) pairs, most specific first; the first that matches decides the question's range."""
    t = lambda now: now.date()  # noqa: E731
    return [
        (rf"\b(?:entre|du) (?:le )?{_D} (?:{_M} )?(?:et|au) (?:le )?{_D} {_M}(?: {_Y})?",
         lambda m, now: _between(t(now), m[1], m[2], m[3], m[4], m[5])),
        (rf"\b(?:between|from) {_M} {_D} (?:and|to|-|–) (?:{_M} )?{_D}(?:,? {_Y})?",
         lambda m, now: _between(t(now), m[2], m[1], m[4], m[3] or m[1], m[5])),
        (r"\b(?:le |on |du )?(\d{4})-(\d{2})-(\d{2})\b", lambda m, now: _days(date(int(m[1]), int(m[2]), int(m[3])))),
        (r"\b(?:le |on )?(\d{1,2})/(\d{1,2})/(\d{4})\b", lambda m, now: _days(date(int(m[3]), int(m[2]), int(m[1])))),
        (rf"\b(?:depuis|since) (?:le |the )?{_D} {_M}(?: {_Y})?",
         lambda m, now: (_day(t(now), m[1], m[2], m[3]), t(now) + timedelta(days=1))),
        (rf"\b(?:depuis|since) {_M} {_D}(?:st|nd|rd|th)?(?:,? {_Y})?",
         lambda m, now: (_day(t(now), m[2], m[1], m[3]), t(now) + timedelta(days=1))),
        (rf"\b(?:le |du |on |the )?{_D} (?:of )?{_M}(?: {_Y})?", lambda m, now: _days(_day(t(now), m[1], m[2], m[3]))),
        (rf"\b(?:on )?{_M} {_D}(?:,? {_Y})?\b", lambda m, now: _days(_day(t(now), m[2], m[1], m[3]))),
        (rf"\b(?:en |in |au mois de |during )?{_M},? {_Y}", lambda m, now: _month(int(m[2]), month_number(m[1]))),
        (rf"\b(?:depuis|since) (?:le mois d'|le mois de )?{_M}",
         lambda m, now: (_month(_past_year(t(now), month_number(m[1])), month_number(m[1]))[0], t(now) + timedelta(days=1))),
        (rf"\b(?:en|in|during|au mois de|au mois d'|pendant le mois de) {_M}",
         lambda m, now: _month(_past_year(t(now), month_number(m[1])), month_number(m[1]))),
        (rf"\b(?:en|in|during|pendant l'année|durant l'année|in the year|l'année) {_Y}\b",
         lambda m, now: (date(int(m[1]), 1, 1), date(int(m[1]) + 1, 1, 1))),
        (r"\b(?:avant-hier|avant hier|the day before yesterday)\b", lambda m, now: _days(t(now) - timedelta(days=2))),
        (r"\b(?:hier soir|last night|yesterday evening)\b",
         lambda m, now: (datetime.combine(t(now) - timedelta(days=1), time(17)), datetime.combine(t(now), time(6)))),
        (r"\b(?:depuis hier|since yesterday)\b", lambda m, now: _days(t(now) - timedelta(days=1), 2)),
        (r"\b(?:hier|yesterday)(?: matin| morning)?\b", lambda m, now: _days(t(now) - timedelta(days=1))),
        (r"\b(?:ce matin|this morning)\b", lambda m, now: (t(now), datetime.combine(t(now), time(12)))),
        (r"\b(?:ce soir|tonight|this evening|cet après-midi|this afternoon)\b",
         lambda m, now: (datetime.combine(t(now), time(12)), t(now) + timedelta(days=1))),
        (r"\b(?:aujourd'hui|aujourd’hui|today|ce jour)\b", lambda m, now: _days(t(now))),
        (rf"\b(?:depuis|since) (?:le |last )?{_W}\b",
         lambda m, now: (_weekday_on_or_before(t(now), weekday_number(m[1])), t(now) + timedelta(days=1))),
        (rf"\b{_W} derni(?:er|ère)\b|\blast {_W}\b",
         lambda m, now: _days(_weekday_on_or_before(t(now), weekday_number(m[1] or m[2]), strictly=True))),
        (r"\b(?:la semaine derni[èe]re|la semaine pass[ée]e|last week|the previous week)\b",
         lambda m, now: _days(_monday(t(now)) - timedelta(days=7), 7)),
        (r"\b(?:cette semaine|this week)\b", lambda m, now: _days(_monday(t(now)), 7)),
        (r"\b(?:le week-end dernier|le weekend dernier|ce week-end|ce weekend|last weekend|this weekend|the weekend)\b",
         lambda m, now: _days(_weekday_on_or_before(t(now) - timedelta(days=1), 5), 2)),
        (r"\b(?:le mois dernier|le mois pass[ée]|last month)\b",
         lambda m, now: _month(*((t(now).year - 1, 12) if t(now).month == 1 else (t(now).year, t(now).month - 1)))),
        (r"\b(?:ce mois-ci|ce mois|this month)\b", lambda m, now: _month(t(now).year, t(now).month)),
        (r"\b(?:l'année derni[èe]re|l'an dernier|l'an passé|last year)\b",
         lambda m, now: (date(t(now).year - 1, 1, 1), date(t(now).year, 1, 1))),
        (r"\b(?:cette année|this year)\b", lambda m, now: (date(t(now).year, 1, 1), t(now) + timedelta(days=1))),
        (rf"\b(?:il y a|voici) {_N} (jours?|semaines?|mois)\b|\b{_N} (days?|weeks?|months?) ago\b", _ago),
        (rf"\b(?:(?:les|ces|au cours des|pendant les|durant les) {_N} derniers jours|depuis {_N} jours|"
         rf"(?:in |over |during )?the (?:past|last) {_N} days)\b",
         lambda m, now: _days(t(now) - timedelta(days=number(next(g for g in m.groups() if g))), number(next(g for g in m.groups() if g)) + 1)),
        (r"\b(?:ces derniers jours|ces jours-ci|ces jours derniers|(?:over |in |during )?the (?:past|last) few days|"
         r"(?:in |over )?(?:the )?(?:past|last|recent) days)\b",
         lambda m, now: _days(t(now) - timedelta(days=3), 4)),
        (rf"\b(?:le |on )?{_W}\b", lambda m, now: _days(_weekday_on_or_before(t(now), weekday_number(m[1])))),
    ]


def _ago(m: re.Match, now: datetime) -> Span:
    """'il y a 3 jours' / '2 weeks ago' / 'il y a un mois': that day, the seven days around it, or that month."""
    n, unit = (m[1], m[2]) if m[1] else (m[3], m[4])
    n, today, unit = number(n), now.date(), unit.lower()
    if unit.startswith(("jour", "day")):
        return _days(today - timedelta(days=n))
    if unit.startswith(("semaine", "week")):  # 'a week ago' is about then, not exactly then: the seven days around it
        return _days(today - timedelta(days=7 * n + 3), 7)
    month_index = today.year * 12 + today.month - 1 - n
    return _month(month_index // 12, month_index % 12 + 1)


RULES = [(re.compile(p, re.IGNORECASE), f) for p, f in _rules()]


def _aware(value: date | datetime, now: datetime) -> datetime:
    """A date is local midnight in the clock's timezone; a naive datetime is local time there."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    return value.replace(tzinfo=now.tzinfo)


def _cut(text: str, start: int, end: int) -> str:
    """The text with one span taken out and the spaces and stray commas left around it tidied."""
    out = text[:start] + " " + text[end:]
    out = re.sub(r"\s+([,?.!;:])", r"\1", out)
    return re.sub(r"\s{2,}", " ", out).strip(" ,")


def find_range(text: str, now: datetime) -> tuple[DateRange, int, int] | None:
    """The first date expression of ``text`` by rule order, resolved against ``now`` (aware), with its span."""
    for pattern, make in RULES:
        m = pattern.search(text)
        if not m:
            continue
        try:
            first, end = make(m, now)
        except (ValueError, KeyError):  # '31 février', a month word that is not one: not a date
            continue
        return DateRange(_aware(first, now), _aware(end, now), m.group(0).strip()), m.start(), m.end()
    return None


def resolve(question: str, now: datetime) -> TimeQuery:
    """A question's range and recency wish, resolved against ``now`` (aware), and the question without those words."""
    found = find_range(question, now)
    text, rng = question, None
    if found:
        rng, start, end = found
        text = _cut(text, start, end)
    recency = _RECENCY.search(text)
    if recency:
        text = _cut(text, recency.start(), recency.end())
    return TimeQuery(text or question, rng, bool(recency))


def window(query: TimeQuery, now: datetime) -> DateRange | None:
    """The range searched: the question's, cut at ``now``; for 'latest' questions everything up to ``now`` (a replay at
    --now must not see later articles); None for other questions."""
    if query.range is not None:
        return query.range.until(now)
    if query.recency:
        return DateRange(datetime.fromtimestamp(0, now.tzinfo), now)
    return None
