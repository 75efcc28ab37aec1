"""The generation worker: one job at a time, queue positions, bounded queue, cancel and stop."""

import queue
import threading

import pytest

from bot.core.events import Failed, Generated, Queued, Started, Token
from bot.core.worker import GenerationWorker, Job
from retrieval.errors import QueueFull
from tests.fakes import FakeGenerator


def _job(inbox, content="q"):
    return Job([{"role": "user", "content": content}], 50, inbox.put)


def _drain(inbox, until=(Generated, Failed), timeout=5):
    events = []
    while True:
        e = inbox.get(timeout=timeout)
        events.append(e)
        if isinstance(e, until):
            return events


def test_jobs_run_in_order_and_learn_their_place_in_the_queue():
    gen = FakeGenerator()
    gen.release.clear()
    worker = GenerationWorker(gen)
    inboxes = [queue.Queue() for _ in range(4)]
    worker.submit(_job(inboxes[0], "q0"))
    assert gen.started.wait(5)
    for i in (2, 1, 3):  # submitted out of numeric order: they must run in submission order, not sorted
        worker.submit(_job(inboxes[i], f"q{i}"))
    assert [inboxes[i].get(timeout=1) for i in (2, 1, 3)] == [Queued(1), Queued(2), Queued(3)]
    gen.release.set()
    for box in inboxes:
        events = _drain(box)
        assert isinstance(events[-1], Generated) and any(isinstance(e, Token) for e in events)
    worker.stop()
    assert [h[0]["content"] for h in gen.history] == ["q0", "q2", "q1", "q3"]


def test_waiting_jobs_are_told_when_they_move_up():
    gen = FakeGenerator()
    gen.release.clear()
    worker = GenerationWorker(gen)
    a, b, c = queue.Queue(), queue.Queue(), queue.Queue()
    worker.submit(_job(a))
    gen.started.wait(5)
    worker.submit(_job(b))
    worker.submit(_job(c))
    gen.release.set()
    events_c = _drain(c)
    places = [e.ahead for e in events_c if isinstance(e, Queued)]
    assert places[0] == 2 and 1 in places and places == sorted(places, reverse=True)
    worker.stop()


def test_full_queue_refuses_with_a_message():
    gen = FakeGenerator()
    gen.release.clear()
    worker = GenerationWorker(gen, max_queue=1)
    worker.submit(_job(queue.Queue()))
    gen.started.wait(5)
    worker.submit(_job(queue.Queue()))
    with pytest.raises(QueueFull, match="try again in a minute"):
        worker.submit(_job(queue.Queue()))
    gen.release.set()
    worker.stop()


def test_cancelled_waiting_job_never_runs():
    gen = FakeGenerator()
    gen.release.clear()
    worker = GenerationWorker(gen)
    worker.submit(_job(queue.Queue()))
    gen.started.wait(5)
    box = queue.Queue()
    job = worker.submit(_job(box))
    job.cancel.set()
    events = _drain(box)
    assert events[-1].cancelled and not any(isinstance(e, Started) for e in events)
    gen.release.set()
    worker.stop()
    assert len(gen.history) == 1


def test_stop_fails_waiting_jobs_and_cancels_the_running_one():
    gen = FakeGenerator(delay_s=0.01)
    gen.enqueue(" ".join(["mot"] * 1000))
    worker = GenerationWorker(gen)
    running, waiting = queue.Queue(), queue.Queue()
    worker.submit(_job(running))
    gen.started.wait(5)
    worker.submit(_job(waiting))
    stopper = threading.Thread(target=worker.stop)
    stopper.start()
    stopper.join(5)
    assert not stopper.is_alive()
    assert "restarting" in str(_drain(waiting)[-1].error)
    assert _drain(running)[-1].cancelled


def test_time_limit_stops_a_long_answer():
    gen = FakeGenerator(delay_s=0.01)
    gen.enqueue(" ".join(["mot"] * 1000))
    worker = GenerationWorker(gen)
    box = queue.Queue()
    job = Job([{"role": "user", "content": "q"}], 2000, box.put, timeout_s=0.1)
    worker.submit(job)
    last = _drain(box)[-1]
    assert isinstance(last, Failed) and "longer than 0.1 s" in str(last.error)
    worker.stop()
