"""`newsbot eval`: retrieval quality on a SQuAD-format dataset or a JSONL question set, optionally with generation."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from bot.app import answer_config, build_answerer, load_generator, open_index
from bot.core.events import Done, Retrieved, Token
from bot.settings import Settings
from retrieval.errors import NewsbotError
from retrieval.quality.dated import evaluate_dated, grouping, is_dated_set, load_dated
from retrieval.fusion import DEFAULT_DENSE_WEIGHT
from retrieval.quality.evaluate import HALVES, evaluate, half, load_jsonl, load_squad
from retrieval.search import DEFAULT_CANDIDATES


def add_parser(sub) -> None:
    """Register `newsbot eval`."""
    p = sub.add_parser("eval", help="measure retrieval (hit@k, MRR, latency, abstention) on a dataset")
    p.add_argument("dataset", type=Path, help="SQuAD-format .json (e.g. PIAF) or .jsonl of {question, answers, unanswerable?}")
    p.add_argument("--k", default="1,3,5,10", help="cut-offs, comma-separated")
    p.add_argument("--limit", type=int, help="evaluate the first N questions only")
    p.add_argument("--articles", type=Path, nargs="+", help="for .jsonl: ingest these into a temporary index (default: the configured index)")
    p.add_argument("--half", choices=HALVES, help="SQuAD: only the questions of one half of the articles (tune on one, check on the other)")
    p.add_argument("--candidates", type=int, metavar="N", help=f"candidates from each ranker (default {DEFAULT_CANDIDATES})")
    p.add_argument("--dense-weight", type=float, metavar="W", help=f"weight of the cosine in the fused score (default {DEFAULT_DENSE_WEIGHT})")
    p.add_argument("--generate", type=int, default=0, metavar="N", help="also answer the first N questions with the model and score the answers (docs/answers.md)")
    p.add_argument("--answers", type=Path, metavar="FILE", help="with --generate: write each question, its answers as written and as shown, and their scores to FILE (JSONL)")
    p.add_argument("--rescore", action="store_true", help="the dataset is an --answers file: check its written answers again with the current checks and score them (no model, no retrieval)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--now", metavar="ISO8601", help="ask the questions that carry no `now` of their own as if at this moment")
    p.set_defaults(func=cmd_eval)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Evaluate and print a table or JSON."""
    if not args.dataset.is_file():
        raise NewsbotError(f"{args.dataset}: no such dataset file")
    try:
        ks = sorted({int(k) for k in args.k.split(",") if k.strip()})
    except ValueError:
        raise NewsbotError(f"--k {args.k}: expected numbers such as 1,3,5,10") from None
    if args.candidates is not None and args.candidates < 1:
        raise NewsbotError(f"--candidates {args.candidates}: expected a positive number")
    if args.dense_weight is not None and not 0.0 <= args.dense_weight <= 1.0:
        raise NewsbotError(f"--dense-weight {args.dense_weight:g}: expected a number from 0 to 1")
    say = (lambda msg: None) if args.json else (lambda msg: print(msg, file=sys.stderr))
    if args.rescore:
        from bot.cli.answer_quality import rescore

        from bot.app import make_embedder

        # The encoder the answer path quotes across languages with, so a rescored answer is checked as shown.
        result = {"generation": rescore(args.dataset, args.answers, make_embedder(settings))}
        print(json.dumps(result, ensure_ascii=False) if args.json else generation_table(result["generation"]))
        return 0
    with tempfile.TemporaryDirectory(prefix="newsbot-eval-") as tmp:
        squad = args.dataset.suffix.lower() == ".json"
        if squad or args.articles:
            settings = settings.model_copy(update={"data_dir": Path(tmp)})
        index = open_index(settings)
        # With NEWSBOT_DATABASE_URL the evaluation's articles go into that database: only an empty one, emptied after.
        scratch_db = bool(settings.database_url) and (squad or bool(args.articles))
        if scratch_db and index.catalog.counts() != (0, 0):
            index.close()
            raise NewsbotError("eval indexes its own articles: with NEWSBOT_DATABASE_URL, give it an empty database")
        try:
            if squad:
                docs, questions = load_squad(args.dataset, args.limit)
                questions = half(questions, args.half) if args.half else questions
                say(f"indexing {len(docs)} paragraphs …")
                index.indexer.add_documents(docs, progress=None if not args.json else False)
            else:
                if args.articles:
                    index.indexer.ingest(args.articles, progress=False)
                if index.catalog.counts()[1] == 0:
                    raise NewsbotError("the index is empty: pass --articles FOLDER or run `newsbot ingest` first")
            if args.candidates:
                index.searcher.candidates = args.candidates
            if args.dense_weight is not None:
                index.searcher.dense_weight = args.dense_weight
            if not squad:
                if is_dated_set(args.dataset):  # questions asked at a moment: ranges, dated hits, story grouping
                    result = _dated(args, settings, index)
                    print(json.dumps(result, ensure_ascii=False) if args.json else dated_table(result))
                    return 0
                if args.half:
                    raise NewsbotError("--half splits SQuAD articles: it needs a .json dataset")
                questions = load_jsonl(args.dataset, args.limit)
            say(f"searching {len(questions)} questions …")
            result = evaluate(index.searcher, questions, ks, answer_config(settings).abstain_threshold)
            if args.generate:
                result["generation"] = _generate(settings, index, questions[: args.generate], say, args.answers)
        finally:
            if scratch_db:
                index.catalog.wipe()
            index.close()
    print(json.dumps(result, ensure_ascii=False) if args.json else table(result, ks))
    return 0


def _dated(args: argparse.Namespace, settings: Settings, index) -> dict:
    """The dated evaluation, and the story grouping of each labelled .jsonl article file."""
    from retrieval.dates.clock import zone

    questions = load_dated(args.dataset, zone(settings.timezone), settings.clock().now())[: args.limit or None]
    result = evaluate_dated(index.searcher, questions)
    for path in args.articles or ():
        if path.suffix == ".jsonl" and '"story"' in path.read_text(encoding="utf-8"):
            result.update(grouping(index.catalog, path))
    return result


def dated_table(r: dict) -> str:
    """The dated results as a small table."""
    lines = [f"questions              {r['questions']}", f"ranges resolved right  {r['ranges_right']}",
             f"hit@3                  {r['hit@3']:.3f}", f"passages outside range {r['outside_range']}",
             f"empty ranges abstained {r['empty_range_abstained']}"]
    if "grouping_precision" in r:
        lines.append(f"story grouping         precision {r['grouping_precision']:.3f}, recall {r['grouping_recall']:.3f} "
                     f"({r['duplicate_pairs']} duplicate pairs)")
    if r.get("misses"):
        lines.append("not in the top 3: " + "; ".join(r["misses"][:5]))
    return "\n".join(lines)


def _generate(settings: Settings, index, questions, say, answers: Path | None = None) -> dict:
    """Answer questions with the configured model; score each answer as the model wrote it and as newsbot shows it.

    With ``answers``, each question's row goes to that JSONL file as soon as it is scored (a long run can be read
    while it goes on, and a crash keeps what was done).
    """
    from bot.cli.answer_quality import score, summarise

    answerer = build_answerer(settings, index, load_generator(settings, interactive=False))
    rows = []
    failed = 0
    out = answers.open("w", encoding="utf-8") if answers else None
    try:
        for i, q in enumerate(questions, 1):
            say(f"generating {i}/{len(questions)} …")
            prompt_sources, parts, done = [], [], None
            try:
                for event in answerer.answer_sync(q.question):
                    if isinstance(event, Retrieved):
                        prompt_sources = event.sources
                    elif isinstance(event, Token):
                        parts.append(event.text)
                    elif isinstance(event, Done):
                        done = event
            except NewsbotError as exc:  # one answer past the time limit must not lose the whole run
                say(f"question {i}: {exc}")
                failed += 1
                continue
            rows.append(score(q, done, "".join(parts), prompt_sources, answerer.templates))
            if out:
                record = {"question": q.question, "gold": list(q.answers), "written": "".join(parts), "shown": done.answer,
                          "unsupported": done.unsupported, "cited": [s.n for s in done.sources],
                          "passages": [{"n": s.n, "title": s.title, "text": s.text, "url": s.url} for s in prompt_sources],
                          **rows[-1]}
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                out.flush()
    finally:
        answerer.close()
        if out:
            out.close()
    result = {"model": answerer.generator.name, "answered": len(rows), "failed": failed}
    result.update({stage: summarise(rows, stage) for stage in ("raw", "mark", "final")})
    return result


def table(r: dict, ks) -> str:
    """The results as a small table."""
    lines = [f"questions  {r['questions']}"]
    lines += [f"hit@{k:<7}{r[f'hit@{k}']:.3f}" for k in ks]
    lines += [f"MRR        {r['mrr']:.3f}", f"search     p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms"]
    if "abstention_recall" in r:
        lines.append(f"abstention precision {r['abstention_precision']:.3f}, recall {r['abstention_recall']:.3f}, "
                     f"false abstentions {r['false_abstentions']}")
    if "generation" in r:
        lines.append(generation_table(r["generation"]))
    if r.get("misses"):
        lines.append("not in the top 3: " + "; ".join(r["misses"][:5]))
    return "\n".join(lines)


def generation_table(g: dict) -> str:
    """The answer scores, as the model wrote them and as newsbot shows them."""
    lines = [f"generation ({g['model']}, {g['answered']} questions)   as written → as shown"]
    for key in GENERATION_KEYS:
        lines.append(f"  {key:<20}{_cell(g['raw'][key]):>8} → {_cell(g['final'][key])}")
    return "\n".join(lines)


GENERATION_KEYS = ("answer_accuracy", "citation_precision", "cited_answers", "unsupported_rate", "language_match",
                   "false_abstentions", "abstention_recall", "median_ttft_ms")


def _cell(value) -> str:
    """A table cell: '-' for a metric that does not apply."""
    return "-" if value is None else str(value)
