"""The `newsbot` command line: ingest, ask, chat, models, eval, bench, doctor and telegram."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from bot.cli.render import print_final
from bot.hints import explain
from bot.settings import Settings, load_settings
from retrieval.errors import NewsbotError

log = logging.getLogger("newsbot")


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """Index article files and folders (default: seeds/)."""
    from bot.resources import seeds_dir
    from bot.app import open_index

    from retrieval.errors import LockedError

    paths = [Path(p) for p in args.paths] or [seeds_dir()]
    if "embed_threads" not in settings.model_fields_set:  # ingestion is throughput-bound: all cores (6.8 vs 3.5 passages/s on 2)
        settings = settings.model_copy(update={"embed_threads": None})
    wait = lambda msg: print(f"newsbot: {msg}", file=sys.stderr)  # noqa: E731
    try:
        if args.rebuild:
            _wipe_index(settings, args.wait, wait)
        index = open_index(settings, wait_s=args.wait, on_wait=wait)
    except LockedError as exc:  # docs/reliability.md: a CLI ingest while the bot runs is refused, or waits with --wait
        if "another newsbot process" not in str(exc):
            raise
        hint = "send the files to the bot as an admin, or retry with `newsbot ingest --wait SECONDS`"
        raise LockedError(f"{explain(exc)}; {hint}" if not args.wait else f"{explain(exc)} (waited {args.wait:g} s)") from None
    try:
        report = index.indexer.ingest(paths, progress=None if not args.json else False)
    finally:
        index.close()
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        for path, reason in report.skipped:
            print(f"skipped {path}: {reason}", file=sys.stderr)
        for path, reason in report.flagged:
            print(f"flagged {path}: {reason}", file=sys.stderr)
        print(
            f"{report.documents} documents, {report.chunks} passages in the index "
            f"(added {report.added}, unchanged {report.unchanged}, removed {report.removed})"
        )
    return 1 if report.skipped and not (report.added or report.unchanged) else 0


def _wipe_index(settings: Settings, wait_s: float = 0.0, on_wait=None) -> None:
    """Delete the index files (not the models or conversations) so the next ingest rebuilds them."""
    import shutil

    from bot.app import ensure_data_dir
    from retrieval.stores.lock import DataDirLock

    data_dir = ensure_data_dir(settings)
    lock = DataDirLock(data_dir).acquire(wait_s, on_wait)
    try:
        shutil.rmtree(data_dir / "chroma", ignore_errors=True)
        for name in ("catalog.sqlite3", "catalog.sqlite3-wal", "catalog.sqlite3-shm"):
            (data_dir / name).unlink(missing_ok=True)
    finally:
        lock.release()


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """Answer one question, streamed, then its sources."""
    from bot.app import build_answerer, load_generator, open_index
    from bot.core.answer import check_question
    from bot.core.events import Done, Token

    check_question(args.question, settings.max_question_chars)  # before any loading: a bad question fails at once
    index = open_index(settings)
    try:
        if index.catalog.counts()[1] == 0:
            raise NewsbotError("the index is empty: add articles with `newsbot ingest FOLDER` first")
        answerer = build_answerer(settings, index, load_generator(settings, interactive=False))
        done = None
        streamed: list[str] = []
        try:
            for event in answerer.answer_sync(args.question):
                if isinstance(event, Token) and not args.json:
                    streamed.append(event.text)
                    sys.stdout.write(event.text)
                    sys.stdout.flush()
                elif isinstance(event, Done):
                    done = event
        finally:
            answerer.close()
    finally:
        index.close()
    if args.json:
        print(json.dumps(done.as_dict(), ensure_ascii=False))
    else:
        print_final(done, "".join(streamed), sys.stdout)
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """Interactive chat; ingests seeds/ on first run."""
    from bot.cli.chat import run_chat

    return run_chat(settings)


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    """List recommended and downloaded models, or pull one."""
    from bot.cli import models as models_cli

    if args.action == "pull":
        if not args.name:
            raise NewsbotError("say which model to pull, e.g. `newsbot models pull llama-3.2-3b`")
        return models_cli.cmd_pull(args.name, settings.models_dir, settings.hf_endpoint)
    return models_cli.cmd_models(settings.models_dir)


def add_ingest(sub) -> None:
    """Register `newsbot ingest`."""
    p = sub.add_parser("ingest", help="index article files (.txt .md .html .json .jsonl) and folders")
    p.add_argument("paths", nargs="*", help="files or folders (default: seeds/)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--rebuild", action="store_true", help="delete the index first and rebuild it")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="wait this long for another newsbot process to release the data directory")
    p.set_defaults(func=cmd_ingest)


def add_ask(sub) -> None:
    """Register `newsbot ask`."""
    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_ask)


def add_chat(sub) -> None:
    """Register `newsbot chat`."""
    p = sub.add_parser("chat", help="interactive chat")
    p.set_defaults(func=cmd_chat)


def add_models(sub) -> None:
    """Register `newsbot models`."""
    p = sub.add_parser("models", help="list models, or `models pull NAME`")
    p.add_argument("action", nargs="?", choices=["list", "pull"], default="list")
    p.add_argument("name", nargs="?")
    p.set_defaults(func=cmd_models)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: each sub-command module registers itself with its own add_parser."""
    from bot.cli import bench, doctor, eval as eval_cli
    from bot.telegram import main as telegram_main

    parser = argparse.ArgumentParser(prog="newsbot", description="Answers questions about news articles, with citations.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (add_ingest, add_ask, add_chat, add_models, eval_cli.add_parser, bench.add_parser,
                telegram_main.add_parser, doctor.add_parser):
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: errors become one line on stderr and a non-zero exit, never a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpcore", "chromadb", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        settings = load_settings()
        return args.func(args, settings)
    except NewsbotError as exc:
        print(f"newsbot: error: {explain(exc)}", file=sys.stderr)
        return 2 if type(exc).__name__ == "ConfigError" else 1
    except KeyboardInterrupt:
        print("\nnewsbot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a file or folder we did not expect to fail: name it, no traceback
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"newsbot: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: one line for the user, the traceback with -v
        log.debug("unexpected error", exc_info=True)
        print(f"newsbot: unexpected error ({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}); "
              "run with -v for details", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
