"""Time-aware evaluation: date expressions resolved right, dated hit@k with nothing outside the range, story grouping."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Sequence
from datetime import tzinfo
from zoneinfo import ZoneInfo

from retrieval.dates.clock import parse_now
from retrieval.dates.expressions import resolve, window
from retrieval.dates.extract import timestamp
from retrieval.documents import read_documents
from retrieval.quality.evaluate import contains_answer
from retrieval.search import Searcher
from retrieval.stores.catalog import Catalog


@dataclass(frozen=True)
class DatedQuestion:
    """A question asked at a moment (``now``, in ``tz``), with its gold answers and the range its date words mean."""

    question: str
    answers: tuple[str, ...]
    now: datetime
    expect: tuple[str, str] | None = None  # [start, end) as ISO dates or date-times in ``now``'s zone
    expect_empty: bool = False  # nothing was published in the range: the bot must abstain


def load_dated(path: Path, tz: tzinfo, default_now: datetime | None = None) -> list[DatedQuestion]:
    """Lines of {question, answers, now?, tz?, range?: [start, end], empty?}; a line without ``now`` is asked at ``default_now``."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            zone = ZoneInfo(item["tz"]) if item.get("tz") else tz
            rng = tuple(item["range"]) if item.get("range") else None
            now = parse_now(item["now"], zone) if item.get("now") else (default_now or datetime.now(zone)).astimezone(zone)
            out.append(DatedQuestion(item["question"], tuple(item.get("answers") or ()), now, rng, bool(item.get("empty"))))
    return out


def is_dated_set(path: Path) -> bool:
    """Whether a JSONL question set gives its questions a ``now``."""
    first = next((line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()), "{}")
    return "now" in json.loads(first)


def evaluate_dated(searcher: Searcher, questions: Sequence[DatedQuestion], k: int = 3) -> dict:
    """Ranges resolved right, hit@k of the answerable questions, passages outside their range, abstentions on empty ranges."""
    resolved_right = hits = outside = shown = empty_right = 0
    misses = []
    for q in questions:
        tq = resolve(q.question, q.now)
        if q.expect is not None:
            want = tuple(datetime.fromisoformat(v).replace(tzinfo=q.now.tzinfo) for v in q.expect)
            resolved_right += tq.range is not None and (tq.range.start, tq.range.end) == want
        found = searcher.search(tq.text, k, within=window(tq, q.now), recency=tq.recency)
        for h in found:
            shown += 1
            when = None if h.chunk.estimated or not h.chunk.published_at else timestamp(h.chunk.published_at)
            outside += bool(tq.range) and (when is None or not tq.range.start.timestamp() <= when < tq.range.end.timestamp())
        if q.expect_empty:
            empty_right += not found
        elif any(contains_answer(h.chunk.text, q.answers) for h in found):
            hits += 1
        else:
            misses.append(q.question)
    dated = [q for q in questions if q.expect is not None]
    answerable = [q for q in questions if not q.expect_empty]
    empty = len(questions) - len(answerable)
    return {
        "questions": len(questions),
        "ranges_right": f"{resolved_right}/{len(dated)}",
        f"hit@{k}": round(hits / max(1, len(answerable)), 4),
        "outside_range": f"{outside}/{shown}",
        "empty_range_abstained": f"{empty_right}/{empty}",
        "misses": misses,
    }


def grouping(catalog: Catalog, articles: Path) -> dict:
    """Pairwise precision and recall of the catalog's story groups against the ``story`` labels of a JSONL article file."""
    labels = [json.loads(line).get("story") for line in articles.read_text(encoding="utf-8").splitlines() if line.strip()]
    docs = read_documents(articles)
    story = dict(catalog.rows("SELECT doc_id, story FROM stories"))
    pairs = [(a, b) for a, b in itertools.combinations(zip(docs, labels), 2) if a[1] and b[1]]
    same_true = {(a[0].doc_id, b[0].doc_id) for a, b in pairs if a[1] == b[1]}
    same_found = {(a[0].doc_id, b[0].doc_id) for a, b in pairs if story.get(a[0].doc_id) == story.get(b[0].doc_id)}
    right = len(same_true & same_found)
    return {
        "duplicate_pairs": len(same_true),
        "grouping_precision": round(right / len(same_found), 4) if same_found else 1.0,
        "grouping_recall": round(right / len(same_true), 4) if same_true else 1.0,
    }
