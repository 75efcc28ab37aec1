"""The answer loop with the fake generator over a real catalog: streaming, citations, abstention, follow-ups, cancel."""

import asyncio
import time

import pytest

from bot.core.events import Cancel, Done, Queued, Retrieved, Started, Token
from bot.core.prompting import Turn, cited
from retrieval.errors import GenerationError, InputError
from tests.conftest import SEEDS, both_backends, make_answerer

pytestmark = both_backends  # the answer loop over the SQLite catalog and over the PostgreSQL one


def test_answer_streams_tokens_then_done_with_sources(answerer, fake_generator):
    fake_generator.enqueue("Plus de 10 milliards de dollars [1].")
    events = list(answerer.answer_sync("Combien Meta prévoit-il d'investir dans Scale AI ?"))
    assert isinstance(events[0], Retrieved) and isinstance(events[1], Started)
    tokens = [e.text for e in events if isinstance(e, Token)]
    done = events[-1]
    assert isinstance(done, Done) and "".join(tokens) == done.said == "Plus de 10 milliards de dollars [1]."
    # The final answer adds the passage's sentence that answers, quoted and cited, after what streamed.
    assert done.answer == f"{done.said}\n\n{done.evidence}" and done.evidence.startswith("D’après les articles : « ")
    assert "investir plus de 10 milliards de dollars dans Scale AI" in done.evidence
    assert not done.abstained and [s.n for s in done.sources] == list(dict.fromkeys(cited(done.answer)))  # citation order
    prompt = fake_generator.history[-1][-1]["content"]
    for s in done.sources:  # every source shown was in the prompt
        assert s.text in prompt
    assert done.timings["completion_tokens"] == 7 and done.timings["first_token_ms"] >= done.timings["retrieve_ms"]


def test_markers_pointing_at_no_passage_are_removed(answerer, fake_generator):
    fake_generator.enqueue("Dix milliards [2] [9].")
    done = list(answerer.answer_sync("Combien Meta investit-il ?"))[-1]
    assert done.said == "Dix milliards [2]."


def test_abstains_without_calling_the_model_below_the_threshold(settings, fake_index, fake_generator):
    fake_index.indexer.ingest([SEEDS])
    answerer = make_answerer(settings, fake_index.searcher, fake_generator, abstain_threshold=1e9)
    (done,) = list(answerer.answer_sync("Quelle est la capitale de l'Australie ?"))
    answerer.close()
    assert done.abstained and done.answer.startswith("Les articles ne le disent pas.") and "«" in done.answer
    assert fake_generator.history == []
    (done,) = list(answerer.answer_sync("What is the capital of Australia?"))
    assert done.answer.startswith("The articles do not say.")


def test_empty_index_abstains_with_advice(settings, fake_index, fake_generator):
    answerer = make_answerer(settings, fake_index.searcher, fake_generator)
    (done,) = list(answerer.answer_sync("Who founded Scale AI?"))
    answerer.close()
    assert done.abstained and "newsbot ingest" in done.answer


@pytest.mark.parametrize("question", ["", "   \n\t", "\u200b\u202e"])
def test_blank_questions_are_refused(answerer, question):
    with pytest.raises(InputError, match="empty"):
        list(answerer.answer_sync(question))


def test_oversized_questions_are_refused_with_the_limit(answerer):
    with pytest.raises(InputError, match="limit is 2000"):
        list(answerer.answer_sync("a" * 100_000))


def test_follow_up_is_searched_with_the_previous_question(answerer, fake_generator):
    history = [Turn("Qui a fondé Scale AI ?", "Alexandr Wang [1].")]
    assert answerer.search_query("et en quelle année ?", history) == "Qui a fondé Scale AI ? et en quelle année ?"
    long = "Quelle est la valorisation de Scale AI après l'investissement potentiel de Meta ?"
    assert answerer.search_query(long, history) == long
    list(answerer.answer_sync("et en quelle année ?", history))
    sent = fake_generator.history[-1]
    assert sent[1] == {"role": "user", "content": "Qui a fondé Scale AI ?"}


def test_cancel_stops_generation_at_the_next_token(answerer, fake_generator):
    fake_generator.delay_s = 0.01
    fake_generator.enqueue(" ".join(["mot"] * 500))
    cancel = Cancel()
    seen = 0
    done = None
    for event in answerer.answer_sync("Combien Meta investit-il ?", cancel=cancel):
        if isinstance(event, Token):
            seen += 1
            if seen == 3:
                cancel.set()
        if isinstance(event, Done):
            done = event
    assert done.cancelled and seen <= 4


def test_generation_failure_is_a_generation_error(answerer, fake_generator):
    fake_generator.fail_with = RuntimeError("boom")
    with pytest.raises(GenerationError, match="generation failed"):
        list(answerer.answer_sync("Combien Meta investit-il ?"))


class SlowSearcher:
    """The real searcher behind a blocking delay, as a large index or a remote Chroma server would be."""

    def __init__(self, searcher, delay_s: float) -> None:
        self.searcher, self.delay_s, self.queries = searcher, delay_s, []
        self.embedder = searcher.embedder

    def search(self, query: str, k: int, **filters):
        """Block, then search."""
        self.queries.append(query)
        time.sleep(self.delay_s)
        return self.searcher.search(query, k)


async def tick(gaps: list[float]) -> None:
    """Every 10 ms, how long the event loop actually took to come back: a blocking call shows as a long gap."""
    last = time.perf_counter()
    while True:
        await asyncio.sleep(0.01)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now


async def test_async_answer_does_not_block_the_loop_while_retrieving_or_generating(answerer, fake_generator):
    answerer.searcher = SlowSearcher(answerer.searcher, 0.3)
    fake_generator.delay_s = 0.02
    fake_generator.enqueue("un deux trois quatre cinq six sept huit neuf dix")
    gaps: list[float] = []
    task = asyncio.create_task(tick(gaps))
    events = [e async for e in answerer.answer("Combien Meta investit-il ?")]
    task.cancel()
    # The model's words stream; the final answer cites nothing the passages support, so it is their quotation instead.
    assert "".join(e.text for e in events if isinstance(e, Token)).startswith("un deux") and isinstance(events[-1], Done)
    assert answerer.searcher.queries == ["Combien Meta investit-il ?"]
    assert len(gaps) >= 30 and max(gaps) < 0.15  # a 0.3 s search on the loop would leave a 0.3 s gap


class SlowEmbedder:
    """The real embedder behind a blocking delay on passages, as embedding sentences on two busy cores is."""

    def __init__(self, inner, delay_s: float) -> None:
        self.inner, self.delay_s, self.passage_calls = inner, delay_s, 0

    def embed_passages(self, texts, threads=None):
        """Block, then embed."""
        self.passage_calls += 1
        time.sleep(self.delay_s)
        return self.inner.embed_passages(texts)

    def __getattr__(self, name):
        return getattr(self.inner, name)


async def test_quoting_the_passages_in_place_of_a_failed_answer_does_not_block_the_loop(answerer, fake_generator):
    answerer.searcher = SlowSearcher(answerer.searcher, 0.0)
    answerer.searcher.embedder = slow = SlowEmbedder(answerer.searcher.embedder, 0.3)
    fake_generator.enqueue("Scale AI a été fondée par Alexandr Wang [1].")  # French to an English question: quoted
    gaps: list[float] = []
    task = asyncio.create_task(tick(gaps))
    events = [e async for e in answerer.answer("Who founded Scale AI?")]
    await asyncio.sleep(0.05)  # the checks come last: let the ticker see the gap they would leave
    task.cancel()
    assert isinstance(events[-1], Done) and events[-1].answer.startswith("From the articles:")
    assert slow.passage_calls == 1 and max(gaps) < 0.15  # a 0.3 s embedding on the loop would leave a 0.3 s gap


def test_same_prompt_is_answered_from_the_cache_without_the_model(answerer, fake_generator):
    fake_generator.enqueue("Dix milliards [1].", "Autre réponse sur Meta et Scale AI [1].")
    first = list(answerer.answer_sync("Combien Meta investit-il ?"))[-1]
    second = list(answerer.answer_sync("Combien Meta investit-il ?"))[-1]
    assert len(fake_generator.history) == 1
    assert second.answer == first.answer and first.said == "Dix milliards [1]." and second.sources == first.sources
    assert second.timings["prompt_tokens"] == first.timings["prompt_tokens"]
    history = [Turn("Qui a fondé Scale AI ?", "Alexandr Wang [1].")]
    other = list(answerer.answer_sync("Combien Meta investit-il ?", history))[-1]  # other prompt: generated anew
    assert len(fake_generator.history) == 2 and other.said == "Autre réponse sur Meta et Scale AI [1]."


def test_cancelled_answers_are_not_cached(answerer, fake_generator):
    fake_generator.delay_s = 0.01
    fake_generator.enqueue(" ".join(["mot"] * 200))
    cancel = Cancel()
    for event in answerer.answer_sync("Combien Meta investit-il ?", cancel=cancel):
        if isinstance(event, Token):
            cancel.set()
    list(answerer.answer_sync("Combien Meta investit-il ?"))
    assert len(fake_generator.history) == 2


def test_cancel_takes_a_queued_answer_out_of_the_queue(settings, fake_index, fake_generator):
    fake_index.indexer.ingest([SEEDS])
    answerer = make_answerer(settings, fake_index.searcher, fake_generator, abstain_threshold=0.0)
    fake_generator.release.clear()
    first = answerer.answer_sync("Combien Meta investit-il ?")
    assert isinstance(next(first), Retrieved) and isinstance(next(first), Started)
    cancel = Cancel()
    second = answerer.answer_sync("Qui a fondé Scale AI ?", cancel=cancel)
    assert isinstance(next(second), Retrieved) and next(second) == Queued(1)
    cancel.set()
    done = next(second)
    assert isinstance(done, Done) and done.cancelled and answerer.waiting() == 1
    fake_generator.release.set()
    assert isinstance(list(first)[-1], Done)
    answerer.close()
    assert len(fake_generator.history) == 1  # the cancelled question never reached the model


def test_a_reader_that_leaves_early_stops_the_answer_and_the_worker_lives_on(answerer, fake_generator):
    fake_generator.delay_s = 0.02
    fake_generator.enqueue(" ".join(["mot"] * 300), "Dix milliards [1].")
    for event in answerer.answer_sync("Combien Meta investit-il ?"):
        if isinstance(event, Token):
            break  # as Ctrl-C in the chat: the private loop closes while the model is still writing
    time.sleep(0.1)  # the job notices the cancel at its next token, after the reader's loop has closed
    assert all(t.is_alive() for t in answerer._worker._threads)  # else the next answer would wait forever
    done = list(answerer.answer_sync("Qui a fondé Scale AI ?"))[-1]
    assert done.said == "Dix milliards [1]." and answerer.waiting() == 0
