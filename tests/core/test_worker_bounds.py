"""Time bounds the token-by-token check cannot give: a silent model, a long queue, and a full queue seen before retrieval."""

import queue
import time

import pytest

from bot.core.events import Failed, Token
from bot.core.worker import GenerationWorker, Job
from retrieval.errors import QueueFull
from tests.core.test_worker import _drain
from tests.fakes import FakeGenerator


def test_the_time_limit_holds_while_no_token_comes():
    gen = FakeGenerator()
    gen.release.clear()  # the model never produces its first token (a long prompt evaluation, a stalled server)
    worker = GenerationWorker(gen)
    box = queue.Queue()
    started = time.monotonic()
    worker.submit(Job([{"role": "user", "content": "q"}], 50, box.put, timeout_s=0.3))
    events = _drain(box, timeout=3)
    took = time.monotonic() - started
    assert isinstance(events[-1], Failed) and "longer than 0.3 s" in str(events[-1].error)
    assert took < 2.0  # told at the limit, not when the model finally speaks (10 s here)
    gen.release.set()
    time.sleep(0.2)
    assert box.empty() or all(not isinstance(e, (Failed, Token)) for e in list(box.queue))  # nothing after the end
    worker.stop()


def test_a_question_waits_in_the_queue_no_longer_than_the_bound():
    gen = FakeGenerator()
    gen.release.clear()
    worker = GenerationWorker(gen, max_wait_s=0.3)
    first, second = queue.Queue(), queue.Queue()
    worker.submit(Job([{"role": "user", "content": "q"}], 50, first.put))
    gen.started.wait(2)
    worker.submit(Job([{"role": "user", "content": "q"}], 50, second.put))
    events = _drain(second, timeout=3)
    assert isinstance(events[-1], Failed) and "no answer could start within 0.3 s" in str(events[-1].error)
    assert worker.waiting() == 1  # only the running one is left
    gen.release.set()
    worker.stop()


def test_a_full_queue_says_busy_before_retrieving(settings, fake_index, fake_generator):
    from tests.conftest import SEEDS, make_answerer

    fake_index.indexer.ingest([SEEDS])
    fake_generator.release.clear()
    searched = []
    search = fake_index.searcher.search
    fake_index.searcher.search = lambda *a, **k: searched.append(a) or search(*a, **k)  # counts, then searches
    answerer = make_answerer(settings, fake_index.searcher, fake_generator, queue_size=1, abstain_threshold=0.0)
    worker = answerer._worker  # the test fills the answerer's own queue directly
    try:
        worker.submit(Job([{"role": "user", "content": "q"}], 50, queue.Queue().put))
        fake_generator.started.wait(2)
        worker.submit(Job([{"role": "user", "content": "q"}], 50, queue.Queue().put))  # the queue is now full
        with pytest.raises(QueueFull):
            answerer.prepare("Combien Meta investit-il dans Scale AI ?")
        assert searched == []
    finally:
        fake_generator.release.set()
        answerer.close()
