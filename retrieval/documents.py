"""Article files to documents: plain text, Markdown, HTML and JSON/JSONL, with clear errors for what cannot be read."""

from __future__ import annotations

import dataclasses
import email.utils
import hashlib
import html.parser
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from retrieval.dates.extract import front_matter
from retrieval.errors import IngestError
from retrieval.hidden_html import strip_hidden
from retrieval.textnorm import clean_text

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl")
MAX_FILE_BYTES = 20 * 1024 * 1024
# A line that introduces teasers for other stories, after the main article.
TEASER_MARKERS = re.compile(
    r"^\s*(découvrir plus|decouvrir plus|à lire aussi|a lire aussi|lire aussi|read more|more stories|related)\s*:?\s*$",
    re.IGNORECASE,
)


# Where a document's published_at comes from: the article itself, its feed item, or (nothing known) when it was stored.
PUBLISHED = "published"
FEED_DATE = "feed"
INGESTED = "ingested"


@dataclass(frozen=True)
class Document:
    """One article: its id is derived from its content, so re-reading the same text gives the same id.

    ``published_at`` is ISO 8601; ``published_kind`` says where it came from (PUBLISHED, FEED_DATE or INGESTED).
    ``source`` names the site or feed, ``author`` the byline.
    """

    title: str
    text: str
    path: str = ""
    url: str | None = None
    published_at: str | None = None
    source: str | None = None
    author: str | None = None
    published_kind: str = ""
    doc_id: str = field(default="")

    def __post_init__(self) -> None:
        if self.published_at and not self.published_kind:
            object.__setattr__(self, "published_kind", PUBLISHED)
        if not self.doc_id:
            digest = hashlib.sha256(f"{self.title}\n{self.text}".encode()).hexdigest()[:16]
            object.__setattr__(self, "doc_id", digest)


def read_documents(path: Path) -> list[Document]:
    """Read one article file into its documents; raise IngestError naming the file when it cannot be read."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestError(f"{path}: unsupported file type {suffix or '(none)'}; use .txt, .md, .html, .json or .jsonl")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise IngestError(f"{path}: file is {size // 1_048_576} MB, over the {MAX_FILE_BYTES // 1_048_576} MB limit")
        raw = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    text = decode(raw, path)
    key = str(path.resolve())
    if suffix in (".json", ".jsonl"):
        docs = parse_json(text, path, jsonl=suffix == ".jsonl")
    elif suffix in (".html", ".htm"):
        docs = [read_html(text)]
    else:
        meta, text = front_matter(text)  # a Markdown/text front matter block: its date and title, not article text
        docs = parse_text(text, markdown=suffix in (".md", ".markdown"))
        if meta and docs:
            when = meta.get("date")
            docs[0] = dataclasses.replace(docs[0], title=meta.get("title") or docs[0].title,
                                          published_at=(iso_date(when) or _written_date(when)) or docs[0].published_at)
    docs = [d for d in docs if d.text.strip()]
    if not docs:
        raise IngestError(f"{path}: no article text found (empty file?)")
    return [dataclasses.replace(d, path=key, source=d.source or path.name) for d in docs]


def iso_date(value: object) -> str | None:
    """A date or timestamp (ISO 8601 or RFC 2822, as feeds write them) in ISO 8601, or None when it cannot be read."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if len(text) == 10 and parsed.hour == parsed.minute == 0 and "T" not in text:
        return parsed.date().isoformat()  # a day alone stays a day
    return parsed.isoformat()


def _written_date(value: object) -> str | None:
    """A date written out ('9 juin 2025', 'June 9, 2025', 09/06/2025) in ISO 8601, or None."""
    from retrieval.dates.extract import parse_date

    return parse_date(str(value)) if value else None


def now_iso() -> str:
    """The current time in UTC, ISO 8601 to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def decode(raw: bytes, path: Path) -> str:
    """Decode UTF-8 (or, failing that, Windows-1252 text); refuse binary data."""
    if not raw.strip():
        raise IngestError(f"{path}: file is empty")
    head = raw[:8192]
    if head.count(b"\x00") > max(1, len(head) // 100):  # a stray NUL is stripped later; many mean binary or UTF-16
        raise IngestError(f"{path}: looks like a binary file, not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise IngestError(f"{path}: not valid UTF-8 text (byte {exc.start})") from exc
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(8, len(text[:8192]) // 100):
        raise IngestError(f"{path}: looks like a binary file, not text")
    return clean_text(text)


def parse_text(text: str, *, markdown: bool = False) -> list[Document]:
    """Plain text: the first line is the title; teasers after a 'Découvrir plus' line become documents of their own."""
    lines = text.split("\n")
    marker = next((i for i, line in enumerate(lines) if TEASER_MARKERS.match(line)), None)
    main_lines = lines if marker is None else lines[:marker]
    docs = [_titled("\n".join(main_lines), markdown)]
    if marker is not None:
        block: list[str] = []
        for line in [*lines[marker + 1 :], ""]:
            if line.strip():
                block.append(line)
            elif block:
                docs.append(_titled("\n".join(block), markdown))
                block = []
    return [d for d in docs if d.title or d.text]


def _titled(block: str, markdown: bool) -> Document:
    """Split a block into its first non-empty line (the title) and the rest (the text)."""
    block = block.strip("\n")
    first, _, rest = block.lstrip().partition("\n")
    title = first.strip()
    if markdown:
        title = title.lstrip("#").strip()
    body = rest.strip("\n")
    if not body:  # a one-line article: its line is both title and text
        body = title
    return Document(title=title[:300], text=body)


def parse_json(text: str, path: Path, *, jsonl: bool) -> list[Document]:
    """JSON object, list of objects, or JSON Lines of {title, text, url?, published_at? (or date?), source?, author?}."""
    try:
        if jsonl:
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            loaded = json.loads(text)
            items = loaded if isinstance(loaded, list) else [loaded]
    except json.JSONDecodeError as exc:
        raise IngestError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    docs = []
    for i, item in enumerate(items, 1):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise IngestError(f"{path}: item {i} is not an object with a 'text' string")
        title = str(item.get("title") or item["text"].strip().split("\n", 1)[0][:120])
        docs.append(
            Document(
                title=clean_text(title).strip(),
                text=clean_text(item["text"]).strip(),
                url=safe_url(_opt(item.get("url"))),
                published_at=iso_date(item.get("published_at") or item.get("date")) or _written_date(item.get("published_at") or item.get("date")),
                source=_opt(item.get("source")),
                author=_opt(item.get("author")),
            )
        )
    return docs


MAX_URL_CHARS = 2000  # the longest URL browsers and link checkers reliably take


def safe_url(url: str | None) -> str | None:
    """``url`` when it is an http(s) URL of sane length with a host and no spaces or control characters, else None."""
    if not url or len(url) > MAX_URL_CHARS or any(ch.isspace() or ord(ch) < 32 for ch in url):
        return None
    scheme, sep, rest = url.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    return url if sep and scheme.lower() in ("http", "https") and host and '"' not in url and "<" not in url else None


def _opt(value: object) -> str | None:
    """An optional metadata string."""
    return clean_text(str(value)).strip() or None if value not in (None, "") else None


class _HTMLText(html.parser.HTMLParser):
    """Collects the title and the readable blocks of an HTML page, skipping scripts, styles and navigation."""

    SKIP = {"script", "style", "nav", "header", "footer", "aside", "form", "noscript", "svg"}
    DATE_META = {"article:published_time", "datepublished", "date", "dc.date", "pubdate", "og:published_time"}
    BLOCK = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "div", "section", "article", "br", "tr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.h1 = ""
        self.blocks: list[str] = []
        self._buf: list[str] = []
        self._skip = 0
        self._in_title = False
        self._in_h1 = False
        self.published: str | None = None  # <meta property="article:published_time">, itemprop datePublished, <time>

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if self.published is None and (
            (tag == "meta" and (a.get("property") or a.get("name") or a.get("itemprop") or "").lower() in self.DATE_META)
            or (tag == "time" and a.get("datetime"))
        ):
            self.published = a.get("content") or a.get("datetime") or None
        if tag in self.SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag in self.BLOCK:
            self._flush()
            self._in_h1 = tag == "h1"

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in self.BLOCK:
            self._flush()
            self._in_h1 = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self._buf.append(data)
            if self._in_h1:
                self.h1 += data

    def _flush(self) -> None:
        text = " ".join("".join(self._buf).split())
        if text:
            self.blocks.append(text)
        self._buf = []


def read_html(text: str) -> Document:
    """An HTML file: trafilatura's article when it finds one (boilerplate dropped, metadata kept), else every block.

    Measured on tests/fixtures/news: the block parser keeps the cookie banner, ads, comments and related links that
    trafilatura drops; on a short page (under MIN_TEXT_CHARS of article) trafilatura finds nothing and the blocks win.
    """
    from retrieval.errors import FetchError
    from retrieval.sources.extract import extract_article

    try:
        return dataclasses.replace(extract_article(text, ""), url=None, source=None) if len(text) > 400 else parse_html(text)
    except FetchError:
        return parse_html(text)


def parse_html(text: str) -> Document:
    """An HTML page: <title> (or the first <h1>) and the text of its blocks, one paragraph each."""
    parser = _HTMLText()
    parser.feed(strip_hidden(text))  # text a browser never shows is not article text (and hides instructions)
    parser.close()
    parser._flush()
    title = " ".join((parser.h1 or parser.title).split())
    blocks = parser.blocks
    if blocks and title and blocks[0] == title:
        blocks = blocks[1:]
    title, body = clean_text(title), clean_text("\n".join(blocks))  # character references are decoded only now
    return Document(title=title or (body.split("\n")[0][:120] if body else ""), text=body,
                    published_at=iso_date(parser.published) or _written_date(parser.published))
