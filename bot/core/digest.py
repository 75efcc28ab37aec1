"""The digest: the period's stories, one passage each, summarised by the model through the same generation worker."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from datetime import datetime, timedelta
from typing import AsyncIterator, Iterator

from bot.core import dated
from bot.core.answer import Answerer, Prepared
from bot.core.events import Cancel, Done
from bot.core.prompting import PromptPassage, build_messages
from retrieval.dates.expressions import DateRange
from retrieval.errors import InputError
from retrieval.search import Hit
from retrieval.timeline import between

MAX_STORIES = 8  # a digest is short: the newest stories of the period, one line each
TASK = {
    "fr": "Fais un court résumé en français des nouvelles {range} : une puce par histoire, chaque puce citée comme [1].",
    "en": "Write a short digest of the news {range}: one bullet per story, each bullet cited like [1].",
}
NOTHING = {"fr": "Aucun article publié {range}.", "en": "No article was published {range}."}


def parse_since(text: str) -> timedelta:
    """'24h', '3d', '1w' or '90m' as a duration; InputError otherwise."""
    m = re.fullmatch(r"\s*(\d{1,4})\s*([mhdw])\s*", text.lower())
    if not m or int(m[1]) == 0:
        raise InputError(f"--since {text!r}: write a duration such as 24h, 3d or 1w")
    return timedelta(**{{"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[m[2]]: int(m[1])})


def prepare(answerer: Answerer, since: timedelta, lang: str) -> Prepared | Done:
    """The digest prompt for the stories published in the last ``since``, or a Done saying there were none."""
    started = time.perf_counter()
    now = answerer.clock.now()
    rng = DateRange(now - since, now)
    stories = between(answerer.searcher.catalog, rng.start.timestamp(), rng.end.timestamp(), MAX_STORIES)
    task = TASK[lang].format(range=rng.phrase(lang))
    if not stories:
        return Done(task, NOTHING[lang].format(range=rng.phrase(lang)), [], abstained=True)
    hits = [Hit(s.lead, 1.0, None, None, s.also) for s in stories]
    passages = [PromptPassage(i, h.chunk.title, h.chunk.text, dated.origin(h.chunk, lang, now.tzinfo)) for i, h in enumerate(hits, 1)]
    budget = answerer.generator.n_ctx - answerer.config.max_tokens
    messages, kept = build_messages(
        answerer.templates, task, passages, (), answerer.generator.count_tokens, budget, dated.today(now, lang)
    )
    from bot.core.answer import _source

    sources = [_source(hits[p.n - 1], p, lang, now.tzinfo) for p in kept]
    # A digest answers no question: no sentence of the stories is the evidence for it.
    return Prepared(task, messages, sources, (time.perf_counter() - started) * 1000, started, evidence=False)


async def adigest(answerer: Answerer, since: timedelta, lang: str, cancel: Cancel | None = None) -> AsyncIterator[object]:
    """The digest's events (Retrieved, Queued…, Started, Token… then Done) through the answer loop's one path and queue."""
    prep = await asyncio.to_thread(prepare, answerer, since, lang)
    async with contextlib.aclosing(answerer.run(prep, cancel)) as events:
        async for event in events:
            yield event


def digest(answerer: Answerer, since: timedelta, lang: str, cancel: Cancel | None = None) -> Iterator[object]:
    """The same events for the CLI, which has no event loop."""
    cancel = cancel or Cancel()
    return answerer.sync(adigest(answerer, since, lang, cancel), cancel)


def next_run(now: datetime, hhmm: str) -> datetime:
    """The next moment the clock reads HH:MM (today if still to come, else tomorrow), in ``now``'s zone."""
    hour, minute = map(int, hhmm.split(":"))
    at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return at if at > now else (at.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=now.tzinfo)
