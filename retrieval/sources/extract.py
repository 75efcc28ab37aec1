"""Web pages to documents with trafilatura: the article's text without menus, banners, ads, comments or related blocks.

trafilatura parses with lxml's HTML parser, which expands no external entity and reads no DTD from the network.
Its date search runs without the "extensive" mode: that mode loads dateparser (12 s on first use) and, on our
fixtures, read a visible French date as 1 January; a visible date is read here instead (VISIBLE_DATE).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from retrieval.documents import Document, iso_date
from retrieval.errors import FetchError
from retrieval.textnorm import clean_text

MIN_TEXT_CHARS = 200  # less than this is a teaser, a paywall or a page without an article
MONTHS = {
    **{m: i for i, m in enumerate(["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
                                   "octobre", "novembre", "décembre"], 1)},
    **{m: i for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july", "august",
                                   "september", "october", "november", "december"], 1)},
    "fevrier": 2, "aout": 8, "decembre": 12,
}
VISIBLE_DATE = re.compile(
    r"\b(?:(\d{1,2})(?:er)?\s+(" + "|".join(MONTHS) + r")|(" + "|".join(MONTHS) + r")\s+(\d{1,2}),?)\s+(\d{4})\b",
    re.IGNORECASE,
)


def extract_article(body: bytes | str, url: str, source: str | None = None) -> Document:
    """The article of a page as a Document (title, text, canonical URL, date, author, site); FetchError when there is none."""
    import trafilatura

    found = trafilatura.bare_extraction(
        body, url=url, with_metadata=True, include_comments=False, include_tables=True, favor_precision=True,
        date_extraction_params={"extensive_search": False, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"},
    )
    text = clean_text(getattr(found, "text", None) or "").strip() if found is not None else ""
    if len(text) < MIN_TEXT_CHARS:
        raise FetchError(f"{url}: no article text found on the page")
    title = clean_text(found.title or "").strip() or text.split("\n", 1)[0][:120]
    first, _, rest = text.partition("\n")
    if first.strip() == title and rest.strip():
        text = rest.strip()  # trafilatura repeats the headline as the first line
    published = iso_date(found.date) if found.date else None
    if published is None or _year_only(found.date):
        published = visible_date(text) or published
    return Document(
        title=title[:300],
        text=text,
        url=canonical(found.url, url) or None,
        published_at=published,
        source=source or clean_text(found.sitename or "").strip() or urlsplit(url).hostname or None,
        author=clean_text(found.author or "").strip() or None,
    )


def canonical(declared: str | None, fetched: str) -> str:
    """The page's canonical URL when it declares an http(s) one of sane length, else the URL it was fetched from."""
    if declared and urlsplit(declared).scheme in ("http", "https") and len(declared) <= 2000:
        return declared
    return fetched


def visible_date(text: str) -> str | None:
    """A date written out in the text ("28 août 2025", "May 2, 2025"), as YYYY-MM-DD."""
    match = VISIBLE_DATE.search(text[:2000])
    if not match:
        return None
    day, month = (match[1], match[2]) if match[1] else (match[4], match[3])
    try:
        return iso_date(f"{int(match[5]):04d}-{MONTHS[month.lower()]:02d}-{int(day):02d}")
    except (KeyError, ValueError):
        return None


def _year_only(value: str | None) -> bool:
    """trafilatura's guess from a year alone: 1 January at midnight."""
    return bool(value) and value[5:10] == "01-01" and value[11:19] in ("", "00:00:00")
