"""`newsbot digest [--since 24h]`: a short cited summary of the period's stories, one bullet per story."""

from __future__ import annotations

import argparse
import json
import sys

from bot.cli.render import print_sources
from bot.settings import Settings


def add_parser(sub) -> None:
    """Register `newsbot digest`."""
    p = sub.add_parser("digest", help="a short cited summary of the recent stories")
    p.add_argument("--since", default="24h", help="the period: 90m, 24h, 3d, 1w (default 24h)")
    p.add_argument("--lang", choices=["en", "fr"], default="en", help="language of the digest (default en)")
    p.add_argument("--now", metavar="ISO8601", help="as if at this moment")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_digest)


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    """Summarise the period's stories with the model, streamed, then the sources."""
    from bot.app import open_index
    from bot.cli.main import stream
    from bot.core.digest import digest, parse_since

    since = parse_since(args.since)  # before any loading: a bad period fails at once
    index = open_index(settings)
    try:
        done, _ = stream(settings, index, lambda answerer: digest(answerer, since, args.lang), quiet=args.json)
    finally:
        index.close()
    if args.json:
        print(json.dumps(done.as_dict(), ensure_ascii=False))
        return 0
    if done.abstained:
        sys.stdout.write(done.answer)
    sys.stdout.write("\n")
    print_sources(done.sources, sys.stdout)
    return 0
