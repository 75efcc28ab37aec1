"""Feeds: their state in SQLite (DATA_DIR/feeds.sqlite3) or PostgreSQL, RSS/Atom parsed by feedparser after a defusedxml screen.

feedparser reads the bytes we fetched (it fetches nothing itself) with expat, which expands no external entity;
entity declarations are refused before it sees them (defusedxml), so a "billion laughs" feed costs nothing.
"""

from __future__ import annotations

import calendar
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from retrieval.errors import FetchError, IngestError

FEEDS_FILE = "feeds.sqlite3"
MAX_BACKOFF_S = 24 * 3600.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    name TEXT PRIMARY KEY, url TEXT UNIQUE NOT NULL, etag TEXT, last_modified TEXT, last_fetch REAL, items INTEGER NOT NULL DEFAULT 0,
    last_error TEXT, failures INTEGER NOT NULL DEFAULT 0, next_try REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS feed_items (
    feed TEXT NOT NULL, item_key TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (feed, item_key)
);
"""
PG_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS feeds (name TEXT PRIMARY KEY, url TEXT UNIQUE NOT NULL, etag TEXT, last_modified TEXT, "
    "last_fetch DOUBLE PRECISION, items INTEGER NOT NULL DEFAULT 0, last_error TEXT, failures INTEGER NOT NULL DEFAULT 0, "
    "next_try DOUBLE PRECISION NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS feed_items (feed TEXT NOT NULL, item_key TEXT NOT NULL, digest TEXT NOT NULL, "
    "PRIMARY KEY (feed, item_key))",
]
# pg_try_advisory_lock key held by the one process refreshing the feeds; the others skip their turn ("feed").
REFRESH_LOCK = 0x66656564


@dataclass(frozen=True)
class Feed:
    """One followed feed and where its refreshes stand."""

    name: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    last_fetch: float | None = None
    items: int = 0
    last_error: str | None = None
    failures: int = 0
    next_try: float = 0.0

    def as_dict(self) -> dict:
        """JSON-ready, with the last fetch in ISO 8601."""
        when = datetime.fromtimestamp(self.last_fetch, timezone.utc).isoformat(timespec="seconds") if self.last_fetch else None
        return {"name": self.name, "url": self.url, "last_fetch": when, "items": self.items, "last_error": self.last_error}


class FeedStore:
    """The feeds and the digests of the items already read: their own SQLite file beside the catalog, or, with a
    database URL, PostgreSQL tables that every replica shares."""

    def __init__(self, path: Path, database_url: str | None = None) -> None:
        self.path = path
        self._pg = None
        if database_url:
            from retrieval.stores.pg import Database

            self._pg = Database.with_tables(database_url, "feeds", PG_SCHEMA, max_size=2)
            return
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise IngestError(f"{path}: cannot open the feed list ({exc})") from exc

    def close(self) -> None:
        """Close the file (or the pool)."""
        (self._pg or self._db).close()

    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Run one statement (``?`` placeholders) and return its rows, if any."""
        if self._pg is None:
            return self._db.execute(sql, params).fetchall()
        with self._pg.session() as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    @contextmanager
    def refresh_turn(self):
        """Whether this process may refresh now: always with SQLite (one process owns the data directory); in PostgreSQL
        only the one holding the advisory lock, kept until the block ends, so replicas never refresh at once."""
        if self._pg is None:
            yield True
            return
        with self._pg.session() as conn:
            mine = conn.execute("SELECT pg_try_advisory_lock(?)", (REFRESH_LOCK,)).fetchone()[0]
            try:
                yield mine
            finally:
                if mine:
                    conn.execute("SELECT pg_advisory_unlock(?)", (REFRESH_LOCK,))

    def add(self, url: str, name: str | None = None) -> Feed:
        """Follow a feed; its name defaults to the URL's host (made unique); IngestError when it is already followed."""
        from urllib.parse import urlsplit

        if self.find(url):
            raise IngestError(f"{url} is already followed")
        base = name or urlsplit(url).hostname or url
        name, n = base, 1
        while self.find(name):
            n += 1
            name = f"{base}-{n}"
        self._rows("INSERT INTO feeds (name, url) VALUES (?, ?)", (name, url))
        return self.find(name)

    def remove(self, name_or_url: str) -> Feed:
        """Stop following a feed (by name or URL); IngestError when there is none."""
        feed = self.find(name_or_url)
        if feed is None:
            raise IngestError(f"no feed named {name_or_url}; `newsbot feeds list` shows them")
        self._rows("DELETE FROM feeds WHERE name=?", (feed.name,))
        self._rows("DELETE FROM feed_items WHERE feed=?", (feed.name,))
        return feed

    def find(self, name_or_url: str) -> Feed | None:
        """The feed with this name or URL."""
        rows = self._rows("SELECT * FROM feeds WHERE name=? OR url=?", (name_or_url, name_or_url))
        return Feed(*rows[0]) if rows else None

    def all(self) -> list[Feed]:
        """Every feed, by name."""
        return [Feed(*r) for r in self._rows("SELECT * FROM feeds ORDER BY name")]

    def due(self, now: float | None = None) -> list[Feed]:
        """Feeds whose back-off (after failures) has passed."""
        now = time.time() if now is None else now
        return [f for f in self.all() if f.next_try <= now]

    def digest(self, feed: str, item_key: str) -> str | None:
        """The digest stored for an item the last time it was read."""
        rows = self._rows("SELECT digest FROM feed_items WHERE feed=? AND item_key=?", (feed, item_key))
        return rows[0][0] if rows else None

    def set_digest(self, feed: str, item_key: str, digest: str) -> None:
        """Remember an item as read."""
        self._rows("INSERT INTO feed_items VALUES (?,?,?) ON CONFLICT (feed, item_key) DO UPDATE SET digest = excluded.digest",
                   (feed, item_key, digest))

    def succeeded(self, feed: Feed, etag: str | None, last_modified: str | None, items: int | None) -> None:
        """Record a good refresh: validators for the next conditional GET, the item count, no error."""
        self._rows(
            "UPDATE feeds SET etag=coalesce(?, etag), last_modified=coalesce(?, last_modified), last_fetch=?, "
            "items=coalesce(?, items), last_error=NULL, failures=0, next_try=0 WHERE name=?",
            (etag, last_modified, time.time(), items, feed.name),
        )

    def failed(self, feed: Feed, error: str, interval_s: float) -> None:
        """Record a failure and back off: the feed waits 2, 4, 8 … refresh intervals (at most a day) before the next try."""
        failures = feed.failures + 1
        wait = min(MAX_BACKOFF_S, interval_s * 2**failures)
        self._rows("UPDATE feeds SET last_fetch=?, last_error=?, failures=?, next_try=? WHERE name=?",
                         (time.time(), error[:300], failures, time.time() + wait, feed.name))


def screen_xml(body: bytes, url: str) -> None:
    """Refuse a feed that declares XML entities or external references (defusedxml); a malformed one is left to feedparser."""
    from xml.etree.ElementTree import ParseError

    import defusedxml
    import defusedxml.ElementTree

    try:
        defusedxml.ElementTree.fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise FetchError(f"{url}: the feed declares XML entities ({type(exc).__name__}); refused") from exc
    except (ParseError, ValueError):
        pass  # not well-formed: feedparser's loose parser decides


def parse_feed(body: bytes, url: str, content_type: str = ""):
    """The feedparser result for a feed's bytes; FetchError when it is an HTML page or has no readable item."""
    import feedparser

    screen_xml(body, url)
    parsed = feedparser.parse(body, response_headers={"content-location": url, "content-type": content_type or "application/xml"})
    if not parsed.entries:
        if content_type.startswith("text/html") or body.lstrip()[:200].lower().find(b"<html") >= 0:
            raise FetchError(f"{url}: an HTML page, not a feed")
        if parsed.bozo:
            raise FetchError(f"{url}: not a valid feed ({str(parsed.bozo_exception).splitlines()[0][:120]})")
    return parsed


def entry_date(entry) -> str | None:
    """An entry's publication (or update) time in ISO 8601 UTC."""
    stamp = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")  # dict.get: no feedparser fallback warning
    if not stamp:
        return None
    return datetime.fromtimestamp(calendar.timegm(stamp), timezone.utc).isoformat()
