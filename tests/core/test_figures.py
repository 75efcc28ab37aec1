"""Figures normalised across French and English writing: numbers, amounts, percentages and dates."""

from __future__ import annotations

from hypothesis import given, strategies as st

from bot.core import figures

FR_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"]
EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]


def _key(text: str) -> str:
    """The key of the single figure in ``text``."""
    found = figures.extract(text)
    assert len(found) == 1, found
    return found[0].key


def test_the_examples_of_the_brief_are_equal() -> None:
    assert _key("10 milliards") == _key("10 000 000 000") == _key("$10 billion") == "num:10000000000"
    assert _key("1 %") == _key("1%") == "pct:1"
    assert _key("9 000") == _key("9,000") == _key("9\u202f000") == "num:9000"
    assert _key("June 7, 2025") == _key("7 juin 2025") == "date:2025-06-07"


def test_decimal_comma_and_point_and_scales() -> None:
    assert _key("14,3 milliards") == _key("14.3 billion") == "num:14300000000"
    assert _key("870 millions de dollars") == "num:870000000"
    assert _key("1er janvier 2024") == "date:2024-01-01"


def test_markers_and_model_names_are_not_figures() -> None:
    assert figures.extract("Meta investit [1] via GPT-4 et SmolLM2 [2].") == []


def test_a_passage_supports_the_year_of_its_date_and_the_mantissa_of_its_amount() -> None:
    support = figures.support_keys("Le 7 juin 2025, ils ont investi 14,3 milliards.")
    assert {"num:2025", "date:2025-06", "num:14.3", "num:14300000000", "date:2025-06-07"} <= support
    assert [f.raw for f in figures.unsupported("In 2025 they put in 14.3 billion, not 12 billion.", ["Le 7 juin 2025, ils ont investi 14,3 milliards."])] == ["12 billion"]


@given(st.integers(min_value=1000, max_value=10**12))
def test_thousands_written_the_french_and_english_way_are_one_number(n: int) -> None:
    english = f"{n:,}"
    french = english.replace(",", " ")
    narrow = english.replace(",", "\u202f")
    assert _key(f"il y a {french} villes") == _key(f"there are {english} cities") == _key(narrow) == f"num:{n}"


@given(st.integers(min_value=1, max_value=999), st.integers(min_value=0, max_value=9), st.sampled_from([("millions", "million", 6), ("milliards", "billion", 9)]))
def test_amounts_with_a_scale_word_round_trip(whole: int, tenth: int, scale: tuple[str, str, int]) -> None:
    fr, en, power = scale
    value = (whole * 10 + tenth) * 10 ** (power - 1)
    assert _key(f"{whole},{tenth} {fr} de dollars") == _key(f"${whole}.{tenth} {en}") == f"num:{value}"


@given(st.integers(min_value=1900, max_value=2100), st.integers(min_value=1, max_value=12), st.integers(min_value=1, max_value=28))
def test_dates_written_in_french_and_english_are_one_date(year: int, month: int, day: int) -> None:
    fr = f"le {day} {FR_MONTHS[month - 1]} {year}"
    en = f"on {EN_MONTHS[month - 1]} {day}, {year}"
    assert _key(fr) == _key(en) == f"date:{year}-{month:02d}-{day:02d}"


@given(st.integers(min_value=0, max_value=100), st.sampled_from(["%", " %", "\u202f%", " percent", " pour cent"]))
def test_percentages_in_every_spelling_are_one_key(n: int, sign: str) -> None:
    assert _key(f"{n}{sign}") == f"pct:{n}"
