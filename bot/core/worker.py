"""The generation worker: one thread owns the model; requests wait in a bounded queue and learn their place in it.

With a remote LLM server that has several slots, several threads pull from the same queue (``workers``).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from bot.core.events import Cancel, Failed, Generated, Queued, Started, Token
from bot.core.ports import Generator, Usage
from retrieval.errors import GenerationError, QueueFull

log = logging.getLogger(__name__)


@dataclass(eq=False)  # jobs are compared by identity: two users may send the same prompt
class Job:
    """One generation request; ``sink`` receives Queued, Started, Token, then Generated or Failed."""

    messages: Sequence[dict]
    max_tokens: int
    sink: Callable[[object], None]
    cancel: Cancel = field(default_factory=Cancel)
    timeout_s: float | None = None


class GenerationWorker:
    """Runs jobs one at a time on its own thread, so the model is never used by two threads and the event loop never blocks.

    ``workers`` > 1 runs that many jobs at once; only for a thread-safe generator (a remote server with as many slots).
    """

    def __init__(self, generator: Generator, max_queue: int = 64, workers: int = 1) -> None:
        self.generator = generator
        self.max_queue = max_queue
        self.workers = max(1, workers)
        self._pending: collections.deque[Job] = collections.deque()
        self._cond = threading.Condition()
        self._running: list[Job] = []
        self._stopping = False
        self._threads = [
            threading.Thread(target=self._run, name=f"generation-worker-{i}" if i else "generation-worker", daemon=True)
            for i in range(self.workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, job: Job) -> Job:
        """Queue a job; raises QueueFull when ``max_queue`` jobs already wait."""
        with self._cond:
            if self._stopping:
                raise GenerationError("the bot is shutting down")
            if job.cancel.is_set():  # cancelled before it was queued
                job.sink(Generated(Usage(), None, cancelled=True))
                return job
            if len(self._pending) >= self.max_queue:
                raise QueueFull(f"busy: {len(self._pending)} questions are waiting; try again in a minute")
            self._pending.append(job)
            ahead = len(self._pending) - 1 + len(self._running)
            if ahead < self.workers:  # a thread is free for it
                ahead = 0
            self._cond.notify_all()
        if ahead:
            job.sink(Queued(ahead))
        job.cancel.on_set(lambda: self._drop(job))  # the one cancel switch also takes a waiting job out of the queue
        return job

    def waiting(self) -> int:
        """Jobs waiting, plus those running."""
        with self._cond:
            return len(self._pending) + len(self._running)

    def _drop(self, job: Job) -> None:
        """A cancelled job still waiting leaves the queue and ends at once; a running one stops at the next token."""
        with self._cond:
            if job in self._pending:
                self._pending.remove(job)
                job.sink(Generated(Usage(), None, cancelled=True))
                self._announce()

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel the running jobs, fail the waiting ones, and end the threads."""
        with self._cond:
            self._stopping = True
            waiting = list(self._pending)
            self._pending.clear()
            for job in self._running:
                job.cancel.set()
            self._cond.notify_all()
        for job in waiting:
            job.sink(Failed(GenerationError("the bot is restarting; please ask again in a minute")))
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _announce(self) -> None:
        """Tell every waiting job its new place (call with the lock held); not while a free thread is about to take one."""
        if len(self._running) < self.workers:
            return
        for i, job in enumerate(self._pending):
            job.sink(Queued(i + len(self._running)))

    def _run(self) -> None:
        """The worker loop."""
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                job = self._pending.popleft()
                self._running.append(job)
                self._announce()
            try:
                self._generate(job)
            finally:
                with self._cond:
                    self._running.remove(job)
                    self._announce()

    def _generate(self, job: Job) -> None:
        """Run one job, turning any failure into a Failed event."""
        job.sink(Started())
        usage = Usage()
        started = time.perf_counter()
        first: float | None = None
        deadline = started + job.timeout_s if job.timeout_s else None
        try:
            for text in self.generator.stream(job.messages, job.max_tokens, job.cancel, usage):
                if first is None:
                    first = (time.perf_counter() - started) * 1000
                job.sink(Token(text))
                if deadline and time.perf_counter() > deadline:
                    job.cancel.set()
                    job.sink(Failed(GenerationError(f"the answer took longer than {job.timeout_s:g} s and was stopped")))
                    return
            job.sink(Generated(usage, first, cancelled=job.cancel.is_set()))
        except Exception as exc:  # the model failed: the job gets the error, the worker lives on
            log.error("generation failed: %s", type(exc).__name__, exc_info=log.isEnabledFor(logging.DEBUG))
            err = exc if isinstance(exc, GenerationError) else GenerationError(f"generation failed ({type(exc).__name__})")
            job.sink(Failed(err))
