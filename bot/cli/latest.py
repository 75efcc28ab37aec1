"""`newsbot latest [N] [--source NAME]`: the newest articles, one per story, with date, source, title and link."""

from __future__ import annotations

import argparse
import json
import sys

from bot.core.dated import ALSO, origin
from bot.settings import Settings
from retrieval.timeline import latest


def add_parser(sub) -> None:
    """Register `newsbot latest`."""
    p = sub.add_parser("latest", help="the newest articles, with date, source, title and link")
    p.add_argument("n", nargs="?", type=int, default=10, help="how many (default 10)")
    p.add_argument("--source", metavar="NAME", help="only this source (e.g. 'Les Échos')")
    p.add_argument("--lang", choices=["en", "fr"], default="en", help="language of the dates (default en)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_latest)


def cmd_latest(args: argparse.Namespace, settings: Settings) -> int:
    """Print the newest stories from the catalog (no model is loaded)."""
    from bot.app import ensure_data_dir
    from retrieval.dates.clock import zone
    from retrieval.errors import InputError
    from retrieval.stores.catalog import open_catalog

    if not 1 <= args.n <= 200:
        raise InputError(f"latest {args.n}: ask for 1 to 200 articles")
    catalog = open_catalog(ensure_data_dir(settings) / "catalog.sqlite3", settings.database_url)  # read-only work: no data-directory lock needed
    try:
        stories = latest(catalog, args.n, args.source)
    finally:
        catalog.close()
    tz = zone(settings.timezone)
    if args.json:
        items = [{"title": s.lead.title, "source": s.lead.source, "url": s.lead.url, "published_at": s.lead.published_at,
                  "also_in": [origin(c, args.lang, tz) for c in s.also]} for s in stories]
        print(json.dumps({"latest": items}, ensure_ascii=False))
        return 0
    if not stories:
        print("No dated article yet" + (f" from {args.source}" if args.source else "") + ".")
        return 0
    for s in stories:
        sys.stdout.write(f"{origin(s.lead, args.lang, tz)} — {s.lead.title}\n")
        if s.lead.url:
            sys.stdout.write(f"    {s.lead.url}\n")
        if s.also:
            sys.stdout.write(f"    {ALSO[args.lang]}{'; '.join(dict.fromkeys(origin(c, args.lang, tz) for c in s.also))}\n")
    return 0
