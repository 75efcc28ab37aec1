"""Documents to passages: sentence-aware chunks that keep paragraph boundaries and exact character offsets."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from retrieval.documents import Document

DEFAULT_CHUNK_CHARS = 1000
DEFAULT_OVERLAP_SENTENCES = 1
# Sub-chunks are embedded only to score their passage (a passage's best sentence window finds it): docs/retrieval.md.
SHORT_TITLE_WORDS = 6  # PIAF: 185 of 191 article titles; news headlines run to 10-25 words
SUBCHUNK_CHARS = 400
SUBCHUNK_OVERLAP_SENTENCES = 1
# A sentence ends with . ! ? or … (possibly followed by a closing quote) before whitespace and a capital or digit.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"»”)]?\s+(?=[«\"“(\[A-ZÀ-ÖØ-Þ0-9])")


@dataclass(frozen=True)
class Chunk:
    """One passage of a document, with its position and character offsets in the document's text."""

    chunk_id: str
    doc_id: str
    title: str
    text: str
    position: int
    start: int
    end: int
    subs: int = 0
    # The document's metadata, filled in when the catalog hands a chunk back (search results), not by the chunker.
    url: str | None = None
    source: str | None = None
    date: str | None = None


def split_spans(text: str, max_chars: int = DEFAULT_CHUNK_CHARS, overlap: int = DEFAULT_OVERLAP_SENTENCES) -> list[tuple[int, int]]:
    """Character spans of the chunks of ``text``: paragraphs merged up to ``max_chars``, long ones split by sentence."""
    units: list[tuple[int, int]] = []
    for para in re.finditer(r"[^\n]+", text):
        start, end = _trimmed(text, para.start(), para.end())
        if start >= end:
            continue
        if end - start <= max_chars:
            units.append((start, end))
        else:
            units.extend(_sentence_windows(text, start, end, max_chars, overlap))
    spans: list[tuple[int, int]] = []
    heading_open = False  # the last span is a heading waiting for its paragraph
    for start, end in units:
        fits = bool(spans) and end - spans[-1][0] <= max_chars and spans[-1][1] <= start
        if fits and (heading_open or not _is_heading(text, start, end)):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
        heading_open = _is_heading(text, start, end)
    return spans


def _is_heading(text: str, start: int, end: int) -> bool:
    """A short line without a closing full stop: a section heading, which belongs with the paragraph after it."""
    return end - start <= 150 and "\n" not in text[start:end] and text[end - 1] not in ".!…:;\"»”)"


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a span to exclude surrounding whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _sentence_windows(text: str, start: int, end: int, max_chars: int, overlap: int) -> list[tuple[int, int]]:
    """Split one long paragraph into windows of whole sentences, each sharing ``overlap`` sentences with the last."""
    sentences: list[tuple[int, int]] = []
    pos = start
    for match in _SENTENCE_END.finditer(text, start, end):
        sentences.append(_trimmed(text, pos, match.start()))
        pos = match.end()
    sentences.append(_trimmed(text, pos, end))
    # A sentence longer than max_chars is cut at a space so that no chunk outgrows the embedder.
    pieces: list[tuple[int, int]] = []
    for s, e in sentences:
        while e - s > max_chars:
            cut = text.rfind(" ", s, s + max_chars)
            cut = cut if cut > s else s + max_chars
            pieces.append(_trimmed(text, s, cut))
            s = cut
        pieces.append(_trimmed(text, s, e))
    pieces = [(s, e) for s, e in pieces if e > s]
    windows: list[tuple[int, int]] = []
    i = 0
    while i < len(pieces):
        j = i
        while j + 1 < len(pieces) and pieces[j + 1][1] - pieces[i][0] <= max_chars:
            j += 1
        windows.append((pieces[i][0], pieces[j][1]))
        if j + 1 >= len(pieces):
            break
        i = max(i + 1, j + 1 - overlap)
    return windows


def chunk_document(doc: Document, max_chars: int = DEFAULT_CHUNK_CHARS, overlap: int = DEFAULT_OVERLAP_SENTENCES) -> list[Chunk]:
    """Split a document into chunks whose ids derive from the document id and the chunk's text and offsets."""
    chunks = []
    for position, (start, end) in enumerate(split_spans(doc.text, max_chars, overlap)):
        body = doc.text[start:end]
        digest = hashlib.sha256(f"{start}:{end}:{body}".encode()).hexdigest()[:12]
        subs = len(sub_spans(body)) + (position == 0 and is_headline(doc.title))  # a lead passage also carries its headline's vector
        chunks.append(Chunk(f"{doc.doc_id}-{digest}", doc.doc_id, doc.title, body, position, start, end, subs))
    return chunks


def sub_spans(text: str) -> list[tuple[int, int]]:
    """Sentence windows of about SUBCHUNK_CHARS inside a passage, leaving out its heading line.

    A heading phrased as a question ("Pourquoi Meta veut-elle investir ?") looks more like the user's question than the
    sentence that answers it, so sub-chunks hold body text only; the passage's own vector keeps the heading.
    """
    body = 0
    first = text.find("\n")
    if first > 0 and _is_heading(text, 0, first):
        body = len(text) - len(text[first:].lstrip())
    if len(text) - body <= SUBCHUNK_CHARS:
        return [(body, len(text))] if body else []
    return _sentence_windows(text, body, len(text), SUBCHUNK_CHARS, SUBCHUNK_OVERLAP_SENTENCES)


def is_headline(title: str) -> bool:
    """A title that is a sentence (news) rather than a name (an encyclopedia entry, a dossier, a person)."""
    return len(title.split()) > SHORT_TITLE_WORDS


def vector_ids(chunk_id: str, subs: int) -> list[str]:
    """The vector ids of a passage: its own, then one per sub-chunk."""
    return [chunk_id] + [f"{chunk_id}#{i}" for i in range(subs)]


def parent_id(vector_id: str) -> str:
    """The passage a vector id belongs to."""
    return vector_id.split("#", 1)[0]
