"""Month, weekday and number words of French and English, and dates written out in either language."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

MONTHS_FR = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
WEEKDAYS_FR = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
WEEKDAYS_EN = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
NUMBERS = {
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9, "dix": 10,
    "quinze": 15, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "fifteen": 15,
}


def fold(word: str) -> str:
    """Lower case without accents, so 'Février' and 'fevrier' compare equal."""
    return "".join(c for c in unicodedata.normalize("NFD", word.lower()) if not unicodedata.combining(c))


_MONTH_KEYS = {fold(m): i for i, m in enumerate(MONTHS_FR, 1)} | {fold(m): i for i, m in enumerate(MONTHS_EN, 1)}
_MONTH_KEYS |= {k[:3]: i for k, i in list(_MONTH_KEYS.items()) if len(k) > 3} | {"sept": 9}


def month_number(word: str) -> int:
    """1–12 for a French or English month name or its three-letter abbreviation."""
    return _MONTH_KEYS[fold(word).rstrip(".")]


def weekday_number(word: str) -> int:
    """0 (Monday) – 6 (Sunday) for a French or English weekday name."""
    key = fold(word)
    return WEEKDAYS_FR.index(key) if key in WEEKDAYS_FR else WEEKDAYS_EN.index(key)


def number(word: str) -> int:
    """An integer written in digits or as a small French or English number word."""
    return int(word) if word.isdigit() else NUMBERS[fold(word)]


def format_date(when: date | datetime, lang: str) -> str:
    """'9 juin 2025' in French, 'June 9, 2025' in English."""
    if lang == "fr":
        day = "1er" if when.day == 1 else str(when.day)
        return f"{day} {MONTHS_FR[when.month - 1]} {when.year}"
    return f"{MONTHS_EN[when.month - 1]} {when.day}, {when.year}"
