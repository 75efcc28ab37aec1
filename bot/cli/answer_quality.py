"""Scores of generated answers for `newsbot eval --generate`: accuracy, citations, unsupported figures, language, abstention.

Each answer is scored twice: as the model wrote it ("raw", the before) and as newsbot shows it (the after), so one
run gives both columns of docs/answers.md. A marker is correct when its passage holds the sentence's figures and
names (bot.core.attribution.support), the same test the attribution applies.
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path
from typing import Sequence

from bot.core import figures, language
from bot.core.attribution import MARKER, attribute, passage_features, split_sentences, support, titled
from bot.core.checking import QUOTED, NOTE, answer_language, check, is_abstention
from bot.core.events import Done, Source
from bot.core.ports import Embedder
from bot.core.prompting import Templates, clean_answer
from retrieval.errors import NewsbotError
from retrieval.quality.evaluate import Question, contains_answer


def correct(answer: str, golds: Sequence[str]) -> bool:
    """The gold answer is in the reply, word for word (commas aside: "Meta, Amazon, and Nvidia") or (for figures) as the
    same figures in any language."""
    loose = lambda text: re.sub(r"\s*[,;]\s*", " ", text)  # noqa: E731
    if contains_answer(loose(answer), [loose(g) for g in golds]):
        return True
    have = figures.keys(answer)
    return any((want := figures.keys(g)) and want <= have for g in golds)


def markers(text: str, sources: Sequence[Source]) -> tuple[int, int]:
    """(correct markers, all markers) of ``text`` against the passages ``sources``."""
    feats = {s.n: passage_features(s.n, s.text, s.title) for s in sources}
    good = total = 0
    for sentence in split_sentences(text):
        for n in dict.fromkeys(int(m) for m in MARKER.findall(sentence)):
            total += 1
            good += n in feats and support(sentence, feats[n]) > 0
    return good, total


def shown_unsupported(text: str, sources: Sequence[Source]) -> bool:
    """Whether ``text`` shows, unflagged, a figure that none of ``sources`` holds, or holds only about something else
    (bot.core.attribution.misplaced: Meta's 65 billion AI budget given as its Scale AI investment) or about another
    subject (bot.core.attribution.misnamed: the United States' 121 podiums given to Brazil)."""
    shown = [s for s in split_sentences(text) if not any(note in s for note in NOTE.values())]  # flagged: not claimed
    if figures.unsupported(" ".join(shown), [titled(s.text, s.title) for s in sources]):
        return True
    # Paragraph breaks kept: an answer's last sentence without a full stop is not read as one with the evidence after it.
    return any(s.unsupported for s in attribute("\n\n".join(shown), [(s.n, s.text) for s in sources], {s.n: s.title for s in sources}).sentences)


def language_of(text: str) -> str | None:
    """The answer's language: its own words first (quotes left out), else the guesser on the whole; None for an answer
    of names and figures only ("Pierre Giustiniani [1]"), which is in no language and so in the question's, and for
    one whose words give neither language the lead ("Meta soutient Anthropic [1]": no function word, no accent), which
    the guesser would call English only because ties go to English."""
    own = QUOTED.sub(" ", MARKER.sub("", text))
    if not re.search(r"\b[^\W\d_A-ZÀ-Ý][^\W\d_]{2,}\b", own):  # no word but capitalised ones
        return None
    return answer_language(text) or language.confident(own, margin=1)


def score(q: Question, done: Done, raw: str, prompt_sources: Sequence[Source], templates: Templates) -> dict:
    """One answer's scores, raw and final."""
    lang = language.detect(q.question)
    # Refused at retrieval: no model text, what was written is newsbot's abstention.
    cleaned = clean_answer(raw, len(prompt_sources), [s.url for s in prompt_sources if s.url]) if prompt_sources else done.answer
    marked = check(q.question, cleaned, prompt_sources, templates, policy="mark") if prompt_sources else None
    row = {"unanswerable": q.unanswerable, "abstained": done.abstained, "ttft_ms": done.timings.get("first_token_ms")}
    row["raw_abstained"] = not prompt_sources or is_abstention(raw)
    for name, text, shown, abstained in (
        ("raw", cleaned, prompt_sources, row["raw_abstained"]),
        ("mark", marked.answer if marked else done.answer, marked.sources if marked else [], marked.abstained if marked else True),
        ("final", done.answer, done.sources, done.abstained),
    ):
        good, total = markers(text, prompt_sources) if not abstained else (0, 0)
        row[name] = {
            "correct": not abstained and correct(text, q.answers),
            "good_markers": good,
            "markers": total,
            "cited": good > 0,
            "unsupported_shown": not abstained and shown_unsupported(text, prompt_sources),
            "language_match": language_of(text) in (None, lang),
            "abstained": abstained,
        }
    return row


def summarise(rows: Sequence[dict], stage: str) -> dict:
    """The metrics of one stage ("raw", "mark" or "final") over the rows."""
    answerable = [r for r in rows if not r["unanswerable"]]
    unanswerable = [r for r in rows if r["unanswerable"]]
    answered = [r for r in rows if not r[stage]["abstained"]]
    good = sum(r[stage]["good_markers"] for r in rows)
    total = sum(r[stage]["markers"] for r in rows)
    share = lambda part, whole: round(part / len(whole), 4) if whole else None  # noqa: E731
    ttft = [r["ttft_ms"] for r in rows if r["ttft_ms"] is not None]
    return {
        "questions": len(rows),
        "answer_accuracy": share(sum(r[stage]["correct"] for r in answerable), answerable),
        "citation_precision": round(good / total, 4) if total else None,
        "cited_answers": share(sum(r[stage]["cited"] for r in answered), answered),
        "unsupported_rate": share(sum(r[stage]["unsupported_shown"] for r in answered), answered),
        "language_match": share(sum(r[stage]["language_match"] for r in rows), rows),
        "false_abstentions": sum(r[stage]["abstained"] for r in answerable),
        "abstention_recall": share(sum(r[stage]["abstained"] for r in unanswerable), unanswerable),
        "median_ttft_ms": round(statistics.median(ttft), 1) if ttft else None,
    }


def _source(p) -> Source:
    """A prompt passage of an --answers record as a Source ({n, title, text, url}, or [n, title, text])."""
    if isinstance(p, dict):
        n, title, text, url = p["n"], p["title"], p["text"], p.get("url")
    else:
        (n, title, text), url = p, None
    return Source(n, f"doc{n}", title, f"chunk{n}", text, 1.0, 0, len(text), url)


def rescore(path: Path, out: Path | None = None, embedder: Embedder | None = None) -> dict:
    """Check the answers written in an `eval --generate --answers` file again with the current checks, and score them.

    The model's text is kept, so a change to attribution, figure checks or abstention detection is measured on the same
    generations without a model; a question refused at retrieval stays refused. With ``embedder`` (the search's
    encoder, as `eval --rescore` passes), a failed answer is quoted across languages as the answer path quotes it.
    """
    from bot.core.answer import finish_text

    templates = Templates.load()
    rows, records = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            q = Question(rec["question"], tuple(rec["gold"]), bool(rec["unanswerable"]))
            sources = [_source(p) for p in rec["passages"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise NewsbotError(f"{path}: not an `eval --answers` file ({exc})") from None
        timings = {"first_token_ms": rec.get("ttft_ms")}
        if sources:
            checked = finish_text(q.question, rec["written"], sources, templates, embedder)
            done = Done(q.question, checked.answer, checked.sources, checked.abstained, timings=timings, unsupported=checked.unsupported)
        else:
            done = Done(q.question, rec["shown"], [], True, timings=timings)
        rows.append(score(q, done, rec["written"], sources, templates))
        records.append({**rec, "shown": done.answer, "unsupported": done.unsupported, "cited": [s.n for s in done.sources], **rows[-1]})
    if out:
        out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    result = {"model": "rescored " + path.name, "answered": len(rows), "failed": 0}
    result.update({stage: summarise(rows, stage) for stage in ("raw", "mark", "final")})
    return result
