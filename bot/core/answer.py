"""The answer loop, shared by the CLI and Telegram: retrieve, abstain or prompt, generate through the worker, clean up."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import AsyncIterator, Iterator, Sequence

from bot.core import dated, language, quoting
from bot.core.checking import Checked, check
from bot.core.events import Cancel, Done, Failed, Generated, Queued, Retrieved, Source, Started, Token
from bot.core.ports import Embedder, Generator, Usage
from bot.core.prompting import PromptPassage, Templates, Turn, build_messages, cited, clean_answer
from bot.core.worker import GenerationWorker, Job
from retrieval.dates.clock import Clock, SystemClock
from retrieval.dates.expressions import TimeQuery, resolve, window
from retrieval.errors import InputError
from retrieval.search import Hit, Searcher
from retrieval.textnorm import clean_text

_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
FOLLOW_UP_WORDS = 8  # a question this short, asked after another, is searched together with the previous question
CACHE_SIZE = 256  # finished answers kept, keyed by the exact prompt


@dataclass(frozen=True)
class AnswerConfig:
    """The knobs of the loop; the composition root fills them from Settings, which holds the defaults (bot.app.answer_config)."""

    top_k: int
    max_tokens: int
    max_question_chars: int
    abstain_threshold: float
    timeout_s: float | None
    queue_size: int
    parallel: int = 1  # answers generated at once: one per server slot with a remote LLM, else one
    evidence: bool = True  # a model's answer is followed by the passages' sentences that answer (bot.core.quoting.evidence)


@dataclass
class Prepared:
    """A question ready for the model: its messages and the sources they quote."""

    question: str
    messages: list[dict]
    sources: list[Source]
    retrieve_ms: float
    started: float
    evidence: bool = True  # the answer is followed by the passages' sentences that answer; not the digest's


class Answerer:
    """Answers questions from the index through its own generation worker; never imports Telegram or llama.cpp."""

    def __init__(
        self, searcher: Searcher, generator: Generator, templates: Templates, config: AnswerConfig, clock: Clock | None = None
    ) -> None:
        self.clock = clock or SystemClock()  # what 'today' and 'hier' mean (NEWSBOT_TIMEZONE, --now)
        self.searcher = searcher
        self.generator = generator
        self.templates = templates
        self.config = config
        self._worker = GenerationWorker(generator, max_queue=config.queue_size, workers=config.parallel)
        self._cache: collections.OrderedDict[str, tuple[str, int, int]] = collections.OrderedDict()
        self._cache_lock = threading.Lock()
        self._answering = 0  # answers under way, from retrieval on (the worker only sees them once they are queued)
        self._answering_lock = threading.Lock()

    def waiting(self) -> int:
        """Questions waiting for the model or being generated."""
        return self._worker.waiting()

    def busy(self) -> bool:
        """Whether an answer is being retrieved, waits or is generated: background ingestion steps back while it is."""
        return self._answering > 0 or self._worker.busy()

    @contextlib.contextmanager
    def _under_way(self) -> Iterator[None]:
        """Count one answer as under way (``busy``) from its retrieval to its end."""
        with self._answering_lock:
            self._answering += 1
        try:
            yield
        finally:
            with self._answering_lock:
                self._answering -= 1

    def close(self, timeout: float = 5.0) -> None:
        """Stop generation at the next token, turn away waiting questions ('restarting'), and end the worker threads."""
        self._worker.stop(timeout=timeout)

    def check_question(self, question: str) -> str:
        """The cleaned question, or InputError when it is blank or too long."""
        return check_question(question, self.config.max_question_chars)

    def search_query(self, question: str, history: Sequence[Turn]) -> str:
        """The text searched for: a short follow-up is joined to the previous question, which names what 'it' is."""
        if history and len(question.split()) <= FOLLOW_UP_WORDS:
            return f"{history[-1].question} {question}"
        return question

    def prepare(self, question: str, history: Sequence[Turn] = ()) -> Prepared | Done:
        """Retrieve and build the prompt (blocking work), or the abstention when no passage is relevant enough."""
        started = time.perf_counter()
        question = self.check_question(question)
        self._worker.check_room()  # a full queue says busy before any retrieval time is spent
        now, lang = self.clock.now(), language.detect(question)
        when = resolve(self.search_query(question, history), now)  # 'hier' becomes a range and leaves the searched text
        hits = self.searcher.search(when.text, self.config.top_k, within=window(when, now), recency=when.recency, lead=True)
        retrieve_ms = (time.perf_counter() - started) * 1000
        if not hits and when.range is not None:
            hits = self._dated_in_text(self.search_query(question, history))
            if not hits:
                return self._abstain_range(question, when, lang, started)
        if not hits or hits[0].score < self.config.abstain_threshold:
            return self._abstain(question, hits, retrieve_ms)
        hits = dated.oldest_first(hits)
        passages = [PromptPassage(i, h.chunk.title, h.chunk.text, dated.origin(h.chunk, lang, now.tzinfo)) for i, h in enumerate(hits, 1)]
        budget = self.generator.n_ctx - self.config.max_tokens
        searched = self.search_query(question, history)
        # Words alone: the encoder across languages picked no better on the seed set and costs time before the first token.
        pick = lambda ps: quoting.best_sentence(searched, [(p.n, p.text) for p in ps])  # noqa: E731
        messages, kept = build_messages(
            self.templates, question, passages, history, self.generator.count_tokens, budget, dated.today(now, lang),
            pick=None if getattr(self.generator, "quotes", False) else pick,
        )
        sources = [_source(hits[p.n - 1], p, lang, now.tzinfo) for p in kept]
        return Prepared(question, messages, sources, retrieve_ms, started)

    def _dated_in_text(self, query: str) -> list[Hit]:
        """For a question naming a year that no article was published in: the passages that speak of that year.

        "Scale AI's revenue in 2024" is in an article of 2025 that says "en 2024"; "what did Mistral announce in 2023"
        is answered by an article that mentions 2023, and refused (no article of 2023) when none does.
        """
        years = set(_YEAR.findall(query))
        if not years:
            return []
        hits = self.searcher.search(query, 4 * self.config.top_k)
        return [h for h in hits if years & set(_YEAR.findall(h.chunk.text))][: self.config.top_k]

    def _abstain_range(self, question: str, when: TimeQuery, lang: str, started: float) -> Done:
        """Nothing published in the asked range: say so without calling the model, naming the newest article on the subject."""
        nearest = dated.newest(self.searcher.search(when.text, self.config.top_k))
        text = dated.abstain_range(self.templates.abstain_range, lang, when.range, nearest)
        total = (time.perf_counter() - started) * 1000
        return Done(question, text, [], abstained=True, timings=_timings(total, None, total, 0, 0))

    def _abstain(self, question: str, hits: Sequence[Hit], retrieve_ms: float) -> Done:
        """'The articles do not say', in the question's language, naming the closest articles; the model is not called."""
        lang = language.detect(question)
        titles = list(dict.fromkeys(h.chunk.title for h in hits))[:3]
        if titles:
            text = self.templates.abstain[lang].format(titles="; ".join(f"« {t} »" if lang == "fr" else f"“{t}”" for t in titles))
        else:
            text = self.templates.abstain_empty[lang]
        timings = _timings(retrieve_ms, None, retrieve_ms, 0, 0)
        return Done(question, text, [], abstained=True, timings=timings)

    def _finish(self, prep: Prepared, text: str, end: Generated) -> Done:
        """The one place a generated text becomes the final Done: foreign links removed, citations attributed, figures checked, the asker's language kept."""
        # An answer that is already a quotation of the passages (the extractive answerer) is not quoted again.
        checked = finish_text(prep.question, text, prep.sources, self.templates, self.searcher.embedder,
                              quote=not getattr(self.generator, "quotes", False), uncited=not end.cancelled,
                              evidence=self.config.evidence and prep.evidence and not end.cancelled)
        total = (time.perf_counter() - prep.started) * 1000
        first = None if end.first_token_ms is None else prep.retrieve_ms + end.first_token_ms
        timings = _timings(prep.retrieve_ms, first, total, end.usage.prompt_tokens, end.usage.completion_tokens)
        return Done(prep.question, checked.answer, checked.sources, abstained=checked.abstained, cancelled=end.cancelled,
                    timings=timings, unsupported=checked.unsupported, evidence=checked.evidence)

    def _key(self, prep: Prepared) -> str:
        """The cache key: the model, the answer budget and the exact prompt, so no answer is served for other passages."""
        raw = json.dumps([self.generator.name, self.config.max_tokens, prep.messages], ensure_ascii=False)
        return hashlib.sha256(raw.encode()).hexdigest()

    def _cached(self, prep: Prepared) -> list[object] | None:
        """The events of an answer already generated for this exact prompt (another user asked the same), or None."""
        with self._cache_lock:
            hit = self._cache.get(self._key(prep))
            if hit is not None:
                self._cache.move_to_end(self._key(prep))
        if hit is None:
            return None
        text, prompt_tokens, completion_tokens = hit
        first = (time.perf_counter() - prep.started) * 1000
        end = Generated(Usage(prompt_tokens, completion_tokens), first - prep.retrieve_ms, cancelled=False)
        return [Started(), Token(text), self._finish(prep, text, end)]

    def forget_answers(self) -> None:
        """Empty the cache of answers already generated, so the next question runs the model (the bench times it)."""
        with self._cache_lock:
            self._cache.clear()

    def _remember(self, prep: Prepared, text: str, end: Generated) -> None:
        """Keep a complete answer for the same prompt asked again."""
        if end.cancelled or not text.strip():
            return
        with self._cache_lock:
            self._cache[self._key(prep)] = (text, end.usage.prompt_tokens, end.usage.completion_tokens)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    async def answer(self, question: str, history: Sequence[Turn] = (), cancel: Cancel | None = None) -> AsyncIterator[object]:
        """The one answer path: yields Retrieved, Queued…, Started, Token… and Done; retrieval runs in a thread, generation in the worker.

        Setting ``cancel`` stops the answer (a queued one at once, a running one at the next token) and ends it with a
        cancelled Done; a consumer that stops reading early cancels it too.
        """
        with self._under_way():  # the query embedding and search already compete with background embedding
            prep = await asyncio.to_thread(self.prepare, question, history)
            async with contextlib.aclosing(self.run(prep, cancel)) as events:
                async for event in events:
                    yield event

    async def run(self, prep: Prepared | Done, cancel: Cancel | None = None) -> AsyncIterator[object]:
        """Generate from a prepared prompt (a question's, or the digest's) through the worker; a Done is passed on as is."""
        if isinstance(prep, Done):
            yield prep
            return
        yield Retrieved(prep.sources)
        # The checks run off the loop: quoting the passages in place of a failed answer may embed their sentences.
        cached = await asyncio.to_thread(self._cached, prep)
        if cached:
            for event in cached:
                yield event
            return
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue = asyncio.Queue()

        def deliver(event: object) -> None:
            """Hand a worker event to this loop; once a reader that left early has closed its loop, nobody listens."""
            try:
                loop.call_soon_threadsafe(inbox.put_nowait, event)
            except RuntimeError:  # the loop is closed (answer_sync after Ctrl-C): the job ends at its next token
                pass

        job = Job(prep.messages, self.config.max_tokens, deliver, cancel or Cancel(), self.config.timeout_s)
        self._worker.submit(job)
        parts: list[str] = []
        ended = False
        try:
            while True:
                event = await inbox.get()
                if isinstance(event, (Failed, Generated)):
                    ended = True
                if isinstance(event, Failed):
                    raise event.error
                if isinstance(event, Generated):
                    self._remember(prep, "".join(parts), event)
                    yield await asyncio.to_thread(self._finish, prep, "".join(parts), event)
                    return
                if isinstance(event, Token):
                    parts.append(event.text)
                yield event
        finally:
            if not ended:  # a consumer that stops early (a cancelled task) stops the generation too
                job.cancel.set()

    def answer_sync(self, question: str, history: Sequence[Turn] = (), cancel: Cancel | None = None) -> Iterator[object]:
        """The same path for callers without an event loop (the CLI, eval): a private loop runs it, events arrive as they come.

        Stopping the iteration (Ctrl-C included) sets ``cancel`` and lets the answer end before returning.
        """
        cancel = cancel or Cancel()
        return self.sync(self.answer(question, history, cancel), cancel)

    @staticmethod
    def sync(events: AsyncIterator[object], cancel: Cancel) -> Iterator[object]:
        """Drive an async stream of answer events (``answer``, the digest) on a private loop, for callers without one."""
        loop = asyncio.new_event_loop()
        step: asyncio.Future | None = None
        completed = False
        try:
            while True:
                step = loop.create_task(events.__anext__())
                try:
                    yield loop.run_until_complete(step)
                except StopAsyncIteration:
                    completed = True
                    return
        finally:
            if not completed:
                cancel.set()
            if step is not None and not step.done():  # interrupted while waiting: let the cancelled answer end
                step.cancel()
                loop.run_until_complete(asyncio.gather(step, return_exceptions=True))
            loop.run_until_complete(events.aclose())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()


def finish_text(
    question: str, text: str, sources: Sequence[Source], templates: Templates, embedder: Embedder | None = None, quote: bool = True,
    uncited: bool = True, evidence: bool = True,
) -> Checked:
    """A generated text as shown: foreign links and out-of-range markers removed, then attributed and checked (bot.core.checking:
    with ``quote``, a statement that fails the checks gives way to the passages' words, ``embedder`` across languages; with
    ``uncited``, an answer that cites nothing too; with ``evidence``, an answer that stands is followed by the passages'
    sentences that answer)."""
    # Links may come only from the cited sources' URLs, @-names also from their passages.
    shown = [s for s in sources if s.n in (set(cited(text)) or {s.n for s in sources})]
    cleaned = clean_answer(text, len(sources), [s.url for s in shown if s.url], [s.text for s in shown])
    return check(question, cleaned, sources, templates, embedder=embedder, quote=quote, uncited=uncited, evidence=evidence)


def check_question(question: str, limit: int) -> str:
    """The cleaned question, or InputError when it is blank or longer than ``limit`` characters."""
    question = clean_text(question).strip()
    if not question:
        raise InputError("the question is empty")
    if len(question) > limit:
        raise InputError(f"the question is {len(question)} characters long; the limit is {limit}")
    return question


def _source(hit: Hit, passage: PromptPassage, lang: str = "en", tz=None) -> Source:
    """A Source for a hit, with the text the model actually saw, where and when it was published, and its story's copies."""
    c = hit.chunk
    end = c.start + len(passage.text) if passage.text != c.text else c.end
    return Source(
        passage.n, c.doc_id, c.title, c.chunk_id, passage.text, round(hit.score, 6), c.start, end, c.url, c.source,
        c.published_at, c.author, c.published_kind, dated.origin(c, lang, tz),
        dated.also_in(hit, lang, tz), lang,
    )


def _timings(retrieve_ms: float, first_ms: float | None, total_ms: float, prompt: int, completion: int) -> dict:
    """The timings object of `ask --json`."""
    return {
        "retrieve_ms": round(retrieve_ms, 2),
        "first_token_ms": None if first_ms is None else round(first_ms, 2),
        "total_ms": round(total_ms, 2),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
    }


__all__ = ["Answerer", "AnswerConfig", "Cancel", "Prepared", "Queued", "Started", "finish_text"]
