"""Retrieval evaluation: SQuAD-format datasets (every paragraph a document) and JSONL question sets over an index."""

from __future__ import annotations

import hashlib
import json
import re
import statistics
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from retrieval.quality.benchmark import percentile
from retrieval.documents import Document
from retrieval.search import Hit, Searcher
from retrieval.textnorm import clean_text


@dataclass(frozen=True)
class Question:
    """A question with its gold answers; SQuAD questions also know their paragraph and answer span."""

    question: str
    answers: tuple[str, ...]
    unanswerable: bool = False
    doc_id: str | None = None
    span: tuple[int, int] | None = None
    article: str | None = None  # SQuAD: the article's title, which the tune/held-out halves split on


HALVES = ("tune", "held-out")


def half(questions: Sequence[Question], which: str) -> list[Question]:
    """One of two halves split by article (md5 of its title: even = tune, odd = held-out), as docs/retrieval.md measured."""
    want = HALVES.index(which)
    return [q for q in questions if int(hashlib.md5((q.article or "").encode()).hexdigest(), 16) % 2 == want]


def load_squad(path: Path, limit: int | None = None) -> tuple[list[Document], list[Question]]:
    """Every paragraph becomes a document titled with its article; questions keep their gold paragraph and span."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    docs: list[Document] = []
    questions: list[Question] = []
    for article in data:
        title = clean_text(article.get("title", "")).replace("_", " ").strip()
        for i, para in enumerate(article["paragraphs"]):
            text = clean_text(para["context"])
            doc = Document(title=title, text=text, path=f"squad:{title}#{i}")
            docs.append(doc)
            for qa in para["qas"]:
                if not qa.get("answers"):
                    continue
                answer = clean_text(qa["answers"][0]["text"]).strip()
                start = _locate(text, answer, qa["answers"][0]["answer_start"])
                if start is None:
                    continue
                questions.append(Question(clean_text(qa["question"]), (answer,), doc_id=doc.doc_id, span=(start, start + len(answer)),
                                      article=article.get("title", "")))
    return docs, questions[:limit] if limit else questions


def _locate(text: str, answer: str, hint: int) -> int | None:
    """The offset of ``answer`` in ``text`` nearest to ``hint`` (clean-up may have shifted it)."""
    starts = [m.start() for m in re.finditer(re.escape(answer), text)] if answer else []
    return min(starts, key=lambda s: abs(s - hint)) if starts else None


def load_jsonl(path: Path, limit: int | None = None) -> list[Question]:
    """Lines of {question, answers, unanswerable?}."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            out.append(Question(item["question"], tuple(item.get("answers") or ()), bool(item.get("unanswerable"))))
    return out[:limit] if limit else out


def _norm(text: str) -> str:
    """Case-, accent- and apostrophe-insensitive text with single spaces, for answer matching."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'").replace("\u202f", " ").replace("\xa0", " ").casefold())
    return " ".join("".join(ch for ch in text if not unicodedata.combining(ch)).split())


def contains_answer(text: str, answers: Sequence[str]) -> bool:
    """Whether ``text`` contains one of ``answers``."""
    haystack = _norm(text)
    return any(_norm(a) in haystack for a in answers if a.strip())


def is_hit(q: Question, hit: Hit) -> bool:
    """A passage answers a question: for SQuAD, it is from the gold paragraph and covers the span; else it contains an answer."""
    if q.span is not None:
        return hit.chunk.doc_id == q.doc_id and hit.chunk.start <= q.span[0] and q.span[1] <= hit.chunk.end
    return contains_answer(hit.chunk.text, q.answers)


def evaluate(
    searcher: Searcher,
    questions: Sequence[Question],
    ks: Sequence[int],
    threshold: float,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """hit@k, MRR, search latency and, when some questions are unanswerable, abstention precision and recall."""
    depth = max(ks)
    ranks: list[int | None] = []
    times: list[float] = []
    abstained_right = abstained_wrong = 0
    for i, q in enumerate(questions):
        started = time.perf_counter()
        hits = searcher.search(q.question, depth)
        times.append((time.perf_counter() - started) * 1000)
        abstains = not hits or hits[0].score < threshold
        if q.unanswerable:
            abstained_right += abstains
            ranks.append(None)
            continue
        abstained_wrong += abstains
        ranks.append(next((r for r, h in enumerate(hits, 1) if is_hit(q, h)), None))
        if progress:
            progress(i + 1)
    answerable = [r for q, r in zip(questions, ranks) if not q.unanswerable]
    n = max(1, len(answerable))
    result: dict = {"questions": len(questions)}
    for k in ks:
        result[f"hit@{k}"] = round(sum(1 for r in answerable if r is not None and r <= k) / n, 4)
    result["mrr"] = round(sum(1 / r for r in answerable if r is not None) / n, 4)
    result["p50_ms"] = round(statistics.median(times), 2) if times else 0.0
    result["p95_ms"] = round(percentile(times, 95), 2) if times else 0.0
    unanswerable = sum(q.unanswerable for q in questions)
    result["false_abstentions"] = abstained_wrong
    if unanswerable:
        abstained = abstained_right + abstained_wrong
        result["abstention_precision"] = round(abstained_right / abstained, 4) if abstained else 0.0
        result["abstention_recall"] = round(abstained_right / unanswerable, 4)
    result["misses"] = [q.question for q, r in zip(questions, ranks) if not q.unanswerable and (r is None or r > 3)][:20]
    return result
