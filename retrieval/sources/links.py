"""Article links to documents: fetched safely, extracted by trafilatura, keyed by their canonical URL."""

from __future__ import annotations

from typing import Sequence

from retrieval.documents import Document
from retrieval.errors import FetchError
from retrieval.sources.extract import extract_article
from retrieval.sources.fetch import HTML_TYPES, Fetcher


def is_url(text: str) -> bool:
    """Whether a command-line argument is an address rather than a file (anything with a scheme)."""
    return "://" in text[:16]


def read_link(fetcher: Fetcher, url: str, source: str | None = None) -> Document:
    """The article at ``url``; FetchError naming it when it cannot be fetched or holds no article."""
    got = fetcher.fetch(url, accept=HTML_TYPES)
    body: bytes | str = got.body
    if got.charset:  # a charset in the HTTP header wins; without one trafilatura reads the page's <meta>
        try:
            body = got.body.decode(got.charset, errors="replace")
        except LookupError:
            pass
    return extract_article(body, got.url, source)


def read_links(fetcher: Fetcher, urls: Sequence[str]) -> tuple[list[tuple[str, list[Document]]], list[tuple[str, str]]]:
    """(canonical URL, [document]) for each readable link, and (url, reason) for the others."""
    found: list[tuple[str, list[Document]]] = []
    failed: list[tuple[str, str]] = []
    for url in urls:
        try:
            doc = read_link(fetcher, url)
        except FetchError as exc:
            failed.append((url, str(exc).removeprefix(f"{url}: ")))
            continue
        found.append((doc.url, [doc]))
    return found, failed
