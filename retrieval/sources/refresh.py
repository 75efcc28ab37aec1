"""Refreshing feeds: a conditional GET per feed, each new or edited item to a document, all indexed under the item's key."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Callable

from retrieval.documents import FEED_DATE, Document, parse_html
from retrieval.errors import FetchError
from retrieval.ingest import Indexer, IngestReport
from retrieval.sources.feeds import Feed, FeedStore, entry_date, parse_feed
from retrieval.sources.fetch import FEED_TYPES, Fetcher
from retrieval.sources.links import read_link
from retrieval.textnorm import clean_text

MAX_ITEMS = 300  # newest items read per refresh: a 5,000-item archive feed must not stall the bot for an hour
MIN_CONTENT_CHARS = 200  # a feed's content shorter than this is a summary: the linked page is read instead


@dataclass
class RefreshReport:
    """What a refresh did, across feeds; ``failed`` names each feed or item that failed, and why."""

    feeds: int = 0
    items: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    not_modified: int = 0
    passages: int = 0
    failed: list[dict] = field(default_factory=list)
    skipped: bool = False  # another replica holds the refresh turn (a shared PostgreSQL feed list): nothing was read

    def as_dict(self) -> dict:
        """JSON-ready."""
        return dataclasses.asdict(self)


class Refresher:
    """Refreshes feeds one at a time into an Indexer; ``interval_s`` sets the back-off of failing feeds."""

    def __init__(self, feeds: FeedStore, fetcher: Fetcher, indexer: Indexer, interval_s: float = 1800.0) -> None:
        self.feeds = feeds
        self.fetcher = fetcher
        self.indexer = indexer
        self.interval_s = interval_s

    def refresh_all(self, only_due: bool = False, should_stop: Callable[[], bool] = lambda: False) -> RefreshReport:
        """Refresh every feed (or those not backed off), one at a time; one feed's failure leaves the others alone."""
        report = RefreshReport()
        with self.feeds.refresh_turn() as mine:
            if not mine:
                report.skipped = True
                return report
            for feed in self.feeds.due() if only_due else self.feeds.all():
                if should_stop():
                    break
                self.refresh(feed, report)
        return report

    def refresh(self, feed: Feed, report: RefreshReport) -> None:
        """Refresh one feed into ``report``."""
        report.feeds += 1
        try:
            got = self.fetcher.fetch(feed.url, accept=FEED_TYPES, etag=feed.etag, last_modified=feed.last_modified)
            if got.not_modified:
                report.not_modified += 1
                self.feeds.succeeded(feed, got.etag, got.last_modified, None)
                return
            parsed = parse_feed(got.body, feed.url, got.content_type)
        except FetchError as exc:
            report.failed.append({"feed": feed.name, "item": None, "reason": str(exc)})
            self.feeds.failed(feed, str(exc), self.interval_s)
            return
        entries = parsed.entries[:MAX_ITEMS]
        keyed: list[tuple[str, list[Document]]] = []
        statuses: dict[str, str] = {}
        digests: dict[str, str] = {}
        for entry in entries:
            key = entry.get("id") or entry.get("link")
            if not key:
                continue
            report.items += 1
            digest = _digest(entry)
            if self.feeds.digest(feed.name, key) == digest:
                report.unchanged += 1
                continue
            try:
                doc = self._document(entry, feed)
            except FetchError as exc:
                report.failed.append({"feed": feed.name, "item": entry.get("link") or key, "reason": str(exc)})
                continue
            old = self.indexer.catalog.docs_for_paths([key])[key]
            statuses[key] = "unchanged" if doc.doc_id in old else "updated" if old else "added"
            keyed.append((key, [doc]))
            digests[key] = digest
        ingest = self.indexer.ingest_keyed(keyed, progress=False, report=IngestReport()) if keyed else IngestReport()
        report.passages += ingest.added
        for key, _ in keyed:
            status = statuses[key]  # "unchanged" here: the entry changed (a date, a summary), its article did not
            setattr(report, status, getattr(report, status) + 1)
            self.feeds.set_digest(feed.name, key, digests[key])
        self.feeds.succeeded(feed, got.etag, got.last_modified, len(parsed.entries))

    def _document(self, entry, feed: Feed) -> Document:
        """An item's article: the feed's full content when it carries one, else the linked page through the extractor."""
        feed_date = entry_date(entry)
        content = " ".join(c.get("value", "") for c in entry.get("content", []))
        title = clean_text(entry.get("title", "")).strip()
        link = entry.get("link")
        author = clean_text(entry.get("author", "")).strip() or None
        if content:
            body = parse_html(clean_text(content))
            if len(body.text) >= MIN_CONTENT_CHARS or not link:
                if not body.text.strip():
                    raise FetchError(f"{link or title}: the item has no text")
                return Document(title=title or body.title, text=body.text, url=link, published_at=feed_date,
                                source=feed.name, author=author, published_kind=FEED_DATE if feed_date else "")
        if not link:
            raise FetchError(f"{title or 'an item'}: no content and no link")
        doc = read_link(self.fetcher, link, source=feed.name)
        if doc.published_at is None and feed_date:  # the item's date is the fallback for the page's own
            doc = dataclasses.replace(doc, published_at=feed_date, published_kind=FEED_DATE)
        return dataclasses.replace(doc, title=doc.title or title, author=doc.author or author)


def _digest(entry) -> str:
    """What identifies a version of an item: its title, dates, summary and content."""
    # dict.get: feedparser's own get() maps a missing "updated" to "published" with a DeprecationWarning
    parts = [dict.get(entry, k) or "" for k in ("title", "link", "updated", "published", "summary")]
    parts += [c.get("value", "") for c in entry.get("content", [])]
    return hashlib.sha256("\x00".join(map(str, parts)).encode()).hexdigest()[:20]
