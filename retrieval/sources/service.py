"""Everything the running bot does with news sources: links, feeds and the inbox, over one indexer (blocking: run in a thread)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from retrieval.errors import IngestError
from retrieval.ingest import Indexer, IngestReport
from retrieval.sources.feeds import Feed, FeedStore
from retrieval.sources.fetch import Fetcher
from retrieval.sources.inbox import Inbox, InboxReport
from retrieval.sources.links import read_link
from retrieval.sources.refresh import Refresher, RefreshReport


@dataclass(frozen=True)
class LinkAdded:
    """What adding one link did, for the reply: the article's title, date, source and the passages added."""

    title: str
    url: str
    published_at: str | None
    source: str | None
    added: int


class Sources:
    """Links, feeds and the inbox over one indexer; one operation at a time (the indexer writes one batch at a time)."""

    def __init__(self, indexer: Indexer, fetcher: Fetcher, feeds: FeedStore, inbox: Inbox, interval_s: float) -> None:
        self.indexer = indexer
        self.fetcher = fetcher
        self.feeds = feeds
        self.inbox = inbox
        self.refresher = Refresher(feeds, fetcher, indexer, interval_s)
        self._lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        """Close the fetcher and the feed list once the operation in flight (a refresh, an inbox item) has ended.

        A cancelled caller does not stop its worker thread: closing the SQLite handle under it crashed the process.
        """
        with self._lock:
            self._closed = True
            self.fetcher.close()
            self.feeds.close()

    def _check_open(self) -> None:
        """IngestError once closed (call with the lock held): work that comes after the shutdown is refused, not run."""
        if self._closed:
            raise IngestError("newsbot is shutting down; the work was not done")

    def add_link(self, url: str) -> LinkAdded:
        """Fetch and index one article link; FetchError naming it when it cannot."""
        with self._lock:
            self._check_open()
            doc = read_link(self.fetcher, url)
            report = self.indexer.ingest_keyed([(doc.url, [doc])], progress=False)
        return LinkAdded(doc.title, doc.url, doc.published_at, doc.source, report.added)

    def add_feed(self, url: str, name: str | None = None) -> tuple[Feed, RefreshReport]:
        """Follow a feed (or take the one already followed) and refresh it now."""
        report = RefreshReport()
        with self._lock:
            self._check_open()
            feed = self.feeds.find(url) or self.feeds.add(url, name)
            self.refresher.refresh(feed, report)
            return self.feeds.find(feed.name) or feed, report

    def refresh_due(self) -> RefreshReport:
        """Refresh the feeds that are not backed off, one at a time."""
        with self._lock:
            self._check_open()
            return self.refresher.refresh_all(only_due=True)

    def process_inbox(self) -> InboxReport:
        """Ingest what was dropped into the inbox (files, .url and .feed requests)."""
        return self.inbox.process(self._take, stop=lambda: self._closed)

    def _take(self, path: Path) -> None:
        """One inbox file; IngestError when it did not go in."""
        suffix = path.suffix.lower()
        if suffix in (".url", ".feed"):
            target = path.read_text(encoding="utf-8", errors="replace").strip().split("\n", 1)[0].strip()
            if suffix == ".url":
                self.add_link(target)
                return
            _, report = self.add_feed(target)
            if report.failed and not (report.added or report.updated or report.unchanged or report.not_modified):
                raise IngestError(report.failed[0]["reason"])
            return
        with self._lock:
            report: IngestReport = self.indexer.ingest([path], progress=False)
        if report.skipped:
            raise IngestError(report.skipped[0][1])
