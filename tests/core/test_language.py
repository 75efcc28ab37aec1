"""The French/English guesser on short answers, where a few function words decide."""

import pytest

from bot.core import language


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        # Four words, two of them a name: only "existe" and "depuis" say French (the stand-in's held-out answer).
        ("Scale AI existe depuis 2016 [1].", "fr"),
        ("Scale AI has existed since 2016 [1].", "en"),
        ("Alexandr Wang rejoindra Meta après l'accord [1].", "fr"),
        ("Alexandr Wang will join Meta after the deal [1].", "en"),
        ("Combien Meta va-t-il investir dans Scale AI ?", "fr"),
        ("How much will Meta invest in Scale AI?", "en"),
    ],
)
def test_short_answers_and_questions_are_told_apart(text: str, lang: str) -> None:
    assert language.detect(text) == lang


def test_names_and_figures_alone_are_not_confidently_in_either_language() -> None:
    assert language.confident("Scale AI, 2016 [1].") is None
    assert language.detect("Scale AI, 2016 [1].") == "en"  # a tie goes to English


def test_words_both_languages_write_do_not_decide() -> None:
    # "car" (because / a car) and "or" (gold / or) are in neither list: one of them alone leaves a tie.
    assert language.confident("Renault car") is None
    assert language.confident("Or Renault") is None
