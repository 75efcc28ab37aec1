"""The `newsbot` command line: ingest, ask, chat, models, eval, latest, digest, bench, doctor and telegram."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from bot.cli.render import print_final
from bot.hints import explain
from bot.settings import Settings, load_settings
from retrieval.errors import NewsbotError

log = logging.getLogger("newsbot")


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """Index article files and folders (default: seeds/); with --json, one object on stdout even when it fails."""
    try:
        return _ingest(args, settings)
    except NewsbotError as exc:
        if args.json:  # a script reading stdout gets an object either way; the one-line error still goes to stderr
            print(json.dumps({"error": str(exc), "documents": None, "chunks": None, "added": 0}, ensure_ascii=False))
        raise


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    """The ingest command's work."""
    from bot.resources import seeds_dir
    from bot.app import open_index

    from retrieval.errors import LockedError

    from retrieval.ingest import IngestReport
    from retrieval.sources.links import is_url

    urls = [p for p in args.paths if is_url(p)]
    paths = [Path(p) for p in args.paths if not is_url(p)] or ([] if urls else [seeds_dir()])
    wait = lambda msg: print(f"newsbot: {msg}", file=sys.stderr)  # noqa: E731
    try:
        if args.rebuild:
            _wipe_index(settings, args.wait, wait)
        index = open_index(settings, wait_s=args.wait, on_wait=wait)
    except LockedError as exc:  # docs/reliability.md: while the bot runs, the work goes to it through its inbox
        if "another newsbot process" not in str(exc):
            raise
        from retrieval.sources.inbox import bot_is_running

        if not args.rebuild and args.paths and bot_is_running(settings.data_dir, settings.inbox.expanduser()):
            return _hand_over(args, settings, urls, paths)
        hint = "send the files to the bot as an admin, or retry with `newsbot ingest --wait SECONDS`"
        raise LockedError(f"{explain(exc)}; {hint}" if not args.wait else f"{explain(exc)} (waited {args.wait:g} s)") from None
    try:
        progress = None if not args.json else False
        report = index.indexer.ingest(paths, progress=progress) if paths else IngestReport()
        if urls:
            report = _ingest_links(urls, settings, index, report, progress)
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
    return 1 if report.skipped and not report.titles else 0  # nothing given could be read


def _hand_over(args: argparse.Namespace, settings: Settings, urls: list[str], paths: list[Path]) -> int:
    """Queue links and copies of the files in the running bot's inbox, and say so."""
    import os
    import shutil
    import uuid

    from retrieval.ingest import expand
    from retrieval.sources.inbox import queue_request

    inbox = settings.inbox.expanduser()
    inbox.mkdir(parents=True, exist_ok=True)
    queued = [str(queue_request(inbox, "url", u)) for u in urls]
    files, _ = expand(paths)
    for f in files:
        if not f.is_file():
            raise NewsbotError(f"{f}: no such file or folder")
        tmp = inbox / f".{uuid.uuid4().hex}.tmp"
        shutil.copyfile(f, tmp)  # hidden while copied: the bot takes only settled, visible files
        target = inbox / f.name if not (inbox / f.name).exists() else inbox / f"{f.stem}-{uuid.uuid4().hex[:6]}{f.suffix}"
        os.replace(tmp, target)
        queued.append(str(target))
    if args.json:
        print(json.dumps({"queued": queued}, ensure_ascii=False))
    else:
        print(f"{len(queued)} item(s) queued for the running bot; it will be searchable within a minute")
    return 0


def _ingest_links(urls, settings: Settings, index, report, progress):
    """Fetch and index article links; a link that fails is reported like an unreadable file."""
    from retrieval.sources.fetch import Fetcher
    from retrieval.sources.links import read_links

    fetcher = Fetcher(settings.fetch_config())
    try:
        found, failed = read_links(fetcher, urls)
    finally:
        fetcher.close()
    report.skipped.extend(failed)
    return index.indexer.ingest_keyed(found, progress, report=report)


def _wipe_index(settings: Settings, wait_s: float = 0.0, on_wait=None) -> None:
    """Delete both sides of the index (the vectors, local or on the Chroma server, and the catalog) so the next ingest rebuilds them.

    The data-directory lock is taken exclusively: no bot or ingest (which hold it shared in server mode) is running.
    """
    import shutil

    from bot.app import ensure_data_dir
    from retrieval.stores.chroma import drop_collection
    from retrieval.stores.lock import DataDirLock

    data_dir = ensure_data_dir(settings)
    lock = DataDirLock(data_dir).acquire(wait_s, on_wait)
    try:
        if settings.chroma_url:  # an embedder change can only be repaired by a new collection
            drop_collection(settings.chroma_url, settings.chroma_headers())
        shutil.rmtree(data_dir / "chroma", ignore_errors=True)
        if settings.database_url:  # the catalog's tables are emptied; other hosts must be stopped first (docs/deploy.md)
            from retrieval.stores.pg_catalog import PgCatalog

            catalog = PgCatalog(settings.database_url)
            try:
                catalog.wipe()
            finally:
                catalog.close()
        for name in ("catalog.sqlite3", "catalog.sqlite3-wal", "catalog.sqlite3-shm"):
            (data_dir / name).unlink(missing_ok=True)
    finally:
        lock.release()


def stream(settings: Settings, index, events_of, *, quiet: bool) -> tuple[object, str]:
    """Load the model, run ``events_of(answerer)`` with its tokens written to stdout as they come (unless ``quiet``);
    the final Done and the streamed text."""
    from bot.app import build_answerer, load_generator
    from bot.core.events import Done, Token

    answerer = build_answerer(settings, index, load_generator(settings, interactive=False))
    done, streamed = None, []
    try:
        for event in events_of(answerer):
            if isinstance(event, Token) and not quiet:
                streamed.append(event.text)
                sys.stdout.write(event.text)
                sys.stdout.flush()
            elif isinstance(event, Done):
                done = event
    finally:
        answerer.close()
    return done, "".join(streamed)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """Answer one question, streamed, then its sources."""
    from bot.app import open_index
    from bot.core.answer import check_question

    check_question(args.question, settings.max_question_chars)  # before any loading: a bad question fails at once
    index = open_index(settings)
    try:
        if index.catalog.counts()[1] == 0:
            raise NewsbotError("the index is empty: add articles with `newsbot ingest FOLDER` first")
        done, streamed = stream(settings, index, lambda answerer: answerer.answer_sync(args.question), quiet=args.json)
    finally:
        index.close()
    if args.json:
        print(json.dumps(done.as_dict(), ensure_ascii=False))
    else:
        print_final(done, streamed, sys.stdout)
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
    p = sub.add_parser("ingest", help="index article files (.txt .md .html .json .jsonl), folders and article links")
    p.add_argument("paths", nargs="*", help="files, folders or http(s) links to articles (default: seeds/)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--rebuild", action="store_true", help="delete the index first and rebuild it")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="wait this long for another newsbot process to release the data directory")
    p.set_defaults(func=cmd_ingest)


def add_ask(sub) -> None:
    """Register `newsbot ask`."""
    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--now", metavar="ISO8601", help="answer as if at this moment, e.g. 2025-06-09T08:30 (NEWSBOT_TIMEZONE if no offset)")
    p.set_defaults(func=cmd_ask)


def add_chat(sub) -> None:
    """Register `newsbot chat`."""
    p = sub.add_parser("chat", help="interactive chat")
    p.add_argument("--now", metavar="ISO8601", help="answer as if at this moment, e.g. 2025-06-09T08:30 (NEWSBOT_TIMEZONE if no offset)")
    p.set_defaults(func=cmd_chat)


def add_models(sub) -> None:
    """Register `newsbot models`."""
    p = sub.add_parser("models", help="list models, or `models pull NAME`")
    p.add_argument("action", nargs="?", choices=["list", "pull"], default="list")
    p.add_argument("name", nargs="?")
    p.set_defaults(func=cmd_models)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: each sub-command module registers itself with its own add_parser."""
    from bot.cli import bench, digest, doctor, eval as eval_cli, feeds, latest
    from bot.telegram import main as telegram_main

    parser = argparse.ArgumentParser(prog="newsbot", description="Answers questions about news articles, with citations.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (add_ingest, add_ask, add_chat, add_models, feeds.add_parser, latest.add_parser, digest.add_parser,
                eval_cli.add_parser, bench.add_parser, telegram_main.add_parser, doctor.add_parser):
        add(sub)
    return parser


def configure_logging(verbose: bool) -> None:
    """WARNING, or DEBUG with -v; the Telegram library and HTTP clients never below INFO, since their debug lines carry users' messages."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for quiet in ("telegram", "httpx", "httpcore", "chromadb", "urllib3", "apscheduler"):
        logging.getLogger(quiet).setLevel(logging.INFO if verbose else logging.WARNING)
    # psycopg.pool warns of each failed reconnection with the server's address: the user gets one line of ours instead.
    logging.getLogger("psycopg").setLevel(logging.INFO if verbose else logging.ERROR)


def main(argv: list[str] | None = None) -> int:
    """Entry point: errors become one line on stderr and a non-zero exit, never a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    os.umask(os.umask(0o077) | 0o077)  # what newsbot writes (index, models, conversations) is the user's only
    try:
        settings = load_settings()
        if getattr(args, "now", None):  # --now: the clock stops at that moment (checked here: a bad value fails at once)
            from retrieval.dates.clock import parse_now, zone

            parse_now(args.now, zone(settings.timezone))
            settings = settings.model_copy(update={"now": args.now})
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
