"""`newsbot feeds`: follow RSS/Atom feeds (add, list, remove, import an OPML file) and refresh them into the index."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from retrieval.errors import IngestError, NewsbotError
from retrieval.sources.feeds import FEEDS_FILE, FeedStore


def add_parser(sub) -> None:
    """Register `newsbot feeds ...`."""
    p = sub.add_parser("feeds", help="follow RSS/Atom feeds: add, list, remove, refresh, import")
    actions = p.add_subparsers(dest="action", required=True)
    a = actions.add_parser("add", help="follow a feed")
    a.add_argument("url")
    a.add_argument("--name", help="a short name (default: the site's host)")
    actions.add_parser("list", help="the feeds, their last fetch, items and last error").add_argument("--json", action="store_true")
    actions.add_parser("remove", help="stop following a feed (its articles stay)").add_argument("feed", metavar="NAME|URL")
    actions.add_parser("refresh", help="fetch every feed now and index new items").add_argument("--json", action="store_true")
    actions.add_parser("import", help="follow every feed of an OPML file (a feed reader's export)").add_argument("file")
    p.set_defaults(func=cmd_feeds)


def open_feeds(settings) -> FeedStore:
    """The feed list in the data directory."""
    from bot.app import ensure_data_dir

    return FeedStore(ensure_data_dir(settings) / FEEDS_FILE, settings.database_url)


def cmd_feeds(args: argparse.Namespace, settings) -> int:
    """Run one feeds action."""
    if args.action == "refresh":
        return _refresh(args, settings)
    store = open_feeds(settings)
    try:
        if args.action == "add":
            _check_url(args.url)
            feed = store.add(args.url, args.name)
            print(f"following {feed.name} ({feed.url})" + _handed_over(settings, feed.url))
        elif args.action == "remove":
            feed = store.remove(args.feed)
            print(f"no longer following {feed.name}; its articles stay in the index")
        elif args.action == "import":
            added = [store.add(url, name).name for url, name in read_opml(Path(args.file)) if not store.find(url)]
            print(f"following {len(added)} new feed(s)" + (f": {', '.join(added)}" if added else ""))
        else:
            _list(store, args.json)
    finally:
        store.close()
    return 0


def _list(store: FeedStore, as_json: bool) -> None:
    """Print the feeds."""
    feeds = [f.as_dict() for f in store.all()]
    if as_json:
        print(json.dumps(feeds, ensure_ascii=False))
        return
    if not feeds:
        print("no feeds; follow one with `newsbot feeds add URL`")
    for f in feeds:
        status = f"error: {f['last_error']}" if f["last_error"] else "ok"
        print(f"{f['name']}\t{f['url']}\tlast fetch {f['last_fetch'] or 'never'}\t{f['items']} items\t{status}")


def _refresh(args: argparse.Namespace, settings) -> int:
    """Refresh every feed into the index (holding the data directory like `ingest`)."""
    from bot.app import open_index
    from retrieval.sources.fetch import Fetcher
    from retrieval.sources.refresh import Refresher

    index = open_index(settings)
    store = open_feeds(settings)
    fetcher = Fetcher(settings.fetch_config())
    try:
        report = Refresher(store, fetcher, index.indexer, settings.feed_interval_min * 60).refresh_all()
    finally:
        fetcher.close()
        store.close()
        index.close()
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        for f in report.failed:
            print(f"failed {f['feed']}{' ' + f['item'] if f['item'] else ''}: {f['reason']}", file=sys.stderr)
        print(f"{report.feeds} feeds, {report.items} items: added {report.added}, updated {report.updated}, "
              f"unchanged {report.unchanged}, {report.not_modified} feed(s) not modified, {len(report.failed)} failed")
    return 1 if report.feeds and len({f["feed"] for f in report.failed if not f["item"]}) == report.feeds else 0


def read_opml(path: Path) -> list[tuple[str, str | None]]:
    """(feed URL, title) of every outline with an xmlUrl in an OPML file, parsed without entity expansion."""
    import defusedxml
    import defusedxml.ElementTree
    from xml.etree.ElementTree import ParseError

    try:
        root = defusedxml.ElementTree.parse(path).getroot()
    except OSError as exc:
        raise IngestError(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    except (ParseError, defusedxml.DefusedXmlException) as exc:
        raise IngestError(f"{path}: not a valid OPML file ({str(exc).splitlines()[0][:120]})") from exc
    found = [(o.get("xmlUrl", "").strip(), (o.get("title") or o.get("text") or "").strip() or None) for o in root.iter("outline")]
    found = [(u, t) for u, t in found if u.startswith(("http://", "https://"))]
    if not found:
        raise IngestError(f"{path}: no feed (outline with an xmlUrl) in this OPML file")
    return found


def _check_url(url: str) -> None:
    """Only http(s) feed addresses."""
    if not url.startswith(("http://", "https://")):
        raise NewsbotError(f"{url[:200]}: a feed address starts with http:// or https://")


def _handed_over(settings, url: str) -> str:
    """When the bot runs, ask it to refresh the new feed now; the words saying so (empty otherwise)."""
    from retrieval.sources.inbox import bot_is_running, queue_request

    if not bot_is_running(settings.data_dir, settings.inbox.expanduser()):
        return "; `newsbot feeds refresh` reads it now"
    queue_request(settings.inbox, "feed", url)
    return "; queued for the running bot: it will be searchable within a minute"
