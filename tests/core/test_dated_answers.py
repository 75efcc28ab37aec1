"""Answers and time: abstention for an empty range, dated passages oldest to newest, today's date, the KV-prefix property."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.answer import Answerer
from bot.core.events import Done, Retrieved
from tests.conftest import make_answerer
from retrieval.dates.clock import FixedClock
from tests.fakes import QUOTE_FIRST, FakeGenerator

DATED = Path(__file__).parent.parent / "data" / "dated" / "articles.jsonl"
PARIS = ZoneInfo("Europe/Paris")


def given(events) -> Retrieved:
    """The passages the model was given (the final Done shows only those its answer cites)."""
    return next(e for e in list(events) if isinstance(e, Retrieved))  # read to the end: the model runs


@pytest.fixture
def make(settings, fake_index):
    """An answer loop over the dated corpus whose clock is frozen at the moment given."""
    fake_index.indexer.ingest([DATED], progress=False)
    workers = []

    def build(at: datetime, generator: FakeGenerator | None = None) -> Answerer:
        answerer = make_answerer(settings, fake_index.searcher, generator or FakeGenerator(default=QUOTE_FIRST), FixedClock(at), top_k=3, abstain_threshold=0.0)
        workers.append(answerer)
        return answerer

    yield build
    for answerer in workers:
        answerer.close()


def test_an_empty_range_abstains_in_the_questions_language_naming_the_newest(make):
    """Nothing from 2023: no model call; the reply names the range and the newest article on the subject with its date."""
    gen = FakeGenerator(default=QUOTE_FIRST)
    answerer = make(datetime(2025, 6, 20, 9, tzinfo=PARIS), gen)
    (fr,) = list(answerer.answer_sync("Qu'a annoncé Mistral AI en 2023 ?"))
    (en,) = list(answerer.answer_sync("What did Mistral AI announce in 2023?"))
    assert isinstance(fr, Done) and fr.abstained and not gen.history
    assert fr.answer.startswith("Aucun article publié du 1er janvier 2023 au 31 décembre 2023 n'en parle.")
    assert "Mistral AI et Nvidia lancent Mistral Compute" in fr.answer and "11 juin 2025" in fr.answer
    assert en.answer.startswith("No article published from January 1, 2023 to December 31, 2023 is about this.")
    assert "June 11, 2025" in en.answer


def test_passages_carry_source_and_date_oldest_first_and_today_is_in_the_user_message(make):
    """'Les Échos · 5 juin 2025' beside each passage, laid out oldest to newest; today's date stated for the model."""
    gen = FakeGenerator(default=QUOTE_FIRST)
    answerer = make(datetime(2025, 6, 20, 9, tzinfo=PARIS), gen)
    done = given(answerer.answer_sync("Qu'a décidé la BCE sur ses taux ?"))
    user = gen.history[-1][-1]["content"]
    assert "vendredi 20 juin 2025" in user
    dates = [s.published_at for s in done.sources]
    assert len(dates) >= 2 and dates == sorted(dates)
    assert all(s.origin() in user and " · " in s.origin() for s in done.sources)
    assert any("avril 2025" in s.origin() for s in done.sources)
    as_json = done.sources[0].as_dict()
    assert {"published_at", "source", "url", "origin", "also_in"} <= set(as_json)


def test_the_system_prompt_is_byte_identical_whatever_the_date(make):
    """The date and the clock change only the user message, so llama.cpp keeps reusing the system prompt's KV prefix."""
    systems, users = set(), set()
    for at in (datetime(2025, 6, 9, 8, tzinfo=PARIS), datetime(2025, 12, 31, 23, tzinfo=PARIS)):
        gen = FakeGenerator(default=QUOTE_FIRST)
        list(make(at, gen).answer_sync("Que s'est-il passé avec Scale AI ?"))
        systems.add(gen.history[-1][0]["content"])
        users.add(gen.history[-1][-1]["content"])
    assert len(systems) == 1 and len(users) == 2
    assert "2025" not in next(iter(systems))  # no date in it


def test_yesterday_is_resolved_in_code(make):
    """'hier' asked on June 11 brings the June 10 stories only, and the word is not searched."""
    gen = FakeGenerator(default=QUOTE_FIRST)
    done = given(make(datetime(2025, 6, 11, 9, tzinfo=PARIS), gen).answer_sync("Que s'est-il passé hier avec Scale AI ?"))
    assert done.sources and all(s.published_at.startswith("2025-06-10") for s in done.sources)
    assert any(s.also_in for s in done.sources)  # the syndicated copies are named, not repeated


def test_a_year_no_article_was_published_in_is_answered_from_a_passage_that_speaks_of_it(make):
    """'Founded in 2016' is in an article of 2025: a question naming 2016 gets it; Mistral's 2023 (above) is still refused."""
    gen = FakeGenerator(default=QUOTE_FIRST)
    answerer = make(datetime(2025, 6, 20, 9, tzinfo=PARIS), gen)
    events = list(answerer.answer_sync("Par qui Scale AI a-t-elle été fondée en 2016 ?"))
    retrieved = next(e for e in events if isinstance(e, Retrieved))
    done = events[-1]
    assert isinstance(done, Done) and not done.abstained and gen.history
    assert retrieved.sources and all("2016" in s.text for s in retrieved.sources)


def test_the_model_is_pointed_at_the_sentence_that_answers_and_the_extractive_answerer_is_not(make):
    """After the passages, the prompt quotes again the sentence the extractive ranker picks for the question."""
    gen = FakeGenerator(default=QUOTE_FIRST)
    answerer = make(datetime(2025, 6, 20, 9, tzinfo=PARIS), gen)
    list(answerer.answer_sync("Où en est l'inflation de la zone euro ?"))
    user = gen.history[-1][-1]["content"]
    passages, _, hint = user.partition("Sentence most likely to hold the answer:\n")
    assert hint.startswith("[") and "L'inflation de la zone euro est retombée à 1,9 % en mai." in hint.split("\n")[0]
    assert hint.index("Question: Où en est l'inflation") > 0 and "1,9 %" in passages
    assert gen.history[-1][0]["content"] == answerer.templates.system  # the system prompt is untouched


def test_the_extractive_answerer_gets_no_hint(settings, fake_index):
    from bot.backends.extractive import ExtractiveGenerator

    fake_index.indexer.ingest([DATED], progress=False)
    seen = []

    class Recording(ExtractiveGenerator):
        def stream(self, messages, *args, **kwargs):
            seen.append(messages[-1]["content"])
            return super().stream(messages, *args, **kwargs)

    answerer = make_answerer(settings, fake_index.searcher, Recording(), FixedClock(datetime(2025, 6, 20, 9, tzinfo=PARIS)), top_k=3, abstain_threshold=0.0)
    try:
        (done,) = [e for e in answerer.answer_sync("Où en est l'inflation de la zone euro ?") if isinstance(e, Done)]
    finally:
        answerer.close()
    assert seen and "Sentence most likely" not in seen[0] and "1,9 %" in done.answer
