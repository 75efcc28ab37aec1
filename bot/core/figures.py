"""Figures in French and English text (numbers, amounts, percentages, dates) reduced to comparable keys.

"10 milliards" and "10 000 000 000" and "$10 billion" share the key ``num:10000000000``; "1 %" and "1%" share
``pct:1``; "June 7, 2025" and "7 juin 2025" share ``date:2025-06-07``. An answer's figure is supported when its key
is among a passage's support keys (``support_keys``), which also hold the parts of each passage figure (the year of a
date, the mantissa of "14,3 milliards"), so an answer may quote less precisely than the passage but never differently.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

MONTHS = {
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7, "aout": 8,
    "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10,
    "nov": 11, "dec": 12, "février": 2, "août": 8, "décembre": 12,
}
SCALES = {
    "mille": 3, "thousand": 3, "k": 3,
    "million": 6, "millions": 6, "m": 6, "mn": 6,
    "milliard": 9, "milliards": 9, "billion": 9, "billions": 9, "md": 9, "mds": 9, "bn": 9, "b": 9,
    "trillion": 12, "trillions": 12, "billions_fr": 12,
}
_SPACE = "[ \u00a0\u202f\u2009]"
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_SCALE = "|".join(sorted((s for s in SCALES if "_" not in s), key=len, reverse=True))
# A number: digits grouped by spaces, commas or dots in threes, or plain digits, with an optional decimal part.
_NUM = rf"\d{{1,3}}(?:{_SPACE}\d{{3}})+(?:[.,]\d+)?|\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d{{1,3}}(?:\.\d{{3}}){{2,}}(?:,\d+)?|\d+(?:[.,]\d+)?"
_PATTERN = re.compile(
    rf"(?P<dmy>(?<![\w])(?P<d1>\d{{1,2}})(?:er)?{_SPACE}+(?P<m1>{_MONTH})\.?(?:{_SPACE}+(?P<y1>\d{{4}}))?(?![\w]))"
    rf"|(?P<mdy>(?<![\w])(?P<m2>{_MONTH})\.?{_SPACE}+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?(?:,?{_SPACE}+(?P<y2>\d{{4}}))?(?![\w]))"
    rf"|(?P<my>(?<![\w])(?P<m3>{_MONTH}){_SPACE}+(?P<y3>\d{{4}})(?![\w]))"
    rf"|(?P<num>(?<![\w.,\-/])(?P<n>{_NUM})(?![\d])(?:{_SPACE}?(?P<pct>%|pour{_SPACE}cent|percent|per{_SPACE}cent)"
    rf"|{_SPACE}?(?P<scale>{_SCALE})(?![\w]))?)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Figure:
    """One figure found in a text: what was written, where, its key and the keys of its parts."""

    raw: str
    start: int
    end: int
    key: str
    parts: tuple[str, ...] = ()


def _fold(text: str) -> str:
    """Lower case without accents, for month names."""
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def parse_number(raw: str) -> Decimal | None:
    """The value of a written number: '9 000', '9,000', '9.000.000', '14,3', '1.5'; None when it is not one."""
    s = re.sub(_SPACE, "", raw)
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", s):  # English thousands (a lone ",ddd" too: "9,000")
        s = s.replace(",", "")
    elif re.fullmatch(r"\d{1,3}(?:\.\d{3}){2,}(?:,\d+)?", s):  # German/Italian-style thousands with dots
        s = s.replace(".", "").replace(",", ".")
    else:
        s = s.replace(",", ".")
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


def _plain(value: Decimal) -> str:
    """A canonical string for a number: no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _date_key(day: str | None, month: str, year: str | None) -> tuple[str, tuple[str, ...]]:
    """The key of a date and of its parts (year, month-year, day-month)."""
    m = MONTHS[_fold(month).rstrip(".")]  # the accented spellings fold to the plain ones
    d = int(day) if day else None
    if d is not None and not 1 <= d <= 31:
        raise ValueError("not a day")
    y = int(year) if year else None
    key = f"date:{y or '-'}-{m:02d}" + (f"-{d:02d}" if d else "")
    parts: list[str] = []
    if y:
        parts += [f"num:{y}", f"date:{y}-{m:02d}"]
    if d:
        parts.append(f"date:--{m:02d}-{d:02d}")
    return key, tuple(parts)


def extract(text: str) -> list[Figure]:
    """The figures of ``text`` in order; citation markers like [1] are not figures."""
    text = re.sub(r"\[\d{1,3}\]", lambda m: " " * len(m.group(0)), text)
    out: list[Figure] = []
    for m in _PATTERN.finditer(text):
        try:
            fig = _figure(m)
        except ValueError:
            fig = None
        if fig is not None:
            out.append(fig)
    return out


def _figure(m: re.Match) -> Figure | None:
    """One regex match as a Figure."""
    raw, start, end = m.group(0), m.start(), m.end()
    if m.group("dmy"):
        key, parts = _date_key(m.group("d1"), m.group("m1"), m.group("y1"))
    elif m.group("mdy"):
        if _fold(m.group("m2")) == "may" and not m.group("y2"):
            return None  # "may 3" is too often the verb
        key, parts = _date_key(m.group("d2"), m.group("m2"), m.group("y2"))
    elif m.group("my"):
        key, parts = _date_key(None, m.group("m3"), m.group("y3"))
    else:
        value = parse_number(m.group("n"))
        if value is None:
            return None
        if m.group("pct"):
            return Figure(raw, start, end, f"pct:{_plain(value)}", (f"num:{_plain(value)}",))
        scale = m.group("scale")
        if scale:
            if scale.lower() in ("m", "b", "k") and not scale.isupper() and scale != "k":
                scale = None  # a lone lower-case "m" or "b" is a unit or a word, not a scale
        if scale:
            whole = value * (Decimal(10) ** SCALES[scale.lower()])
            return Figure(raw, start, end, f"num:{_plain(whole)}", (f"num:{_plain(value)}",))
        return Figure(m.group("n"), start, start + len(m.group("n")), f"num:{_plain(value)}")
    return Figure(raw, start, end, key, parts)


def keys(text: str) -> set[str]:
    """The keys of the figures of ``text``."""
    return {f.key for f in extract(text)}


def support_keys(text: str) -> set[str]:
    """Every key an answer may use when quoting ``text``: its figures and their parts."""
    out: set[str] = set()
    for f in extract(text):
        out.add(f.key)
        out.update(f.parts)
    return out


def unsupported(answer_text: str, passage_texts: list[str]) -> list[Figure]:
    """The figures of ``answer_text`` that none of ``passage_texts`` holds."""
    support: set[str] = set()
    for t in passage_texts:
        support |= support_keys(t)
    return [f for f in extract(answer_text) if f.key not in support]
