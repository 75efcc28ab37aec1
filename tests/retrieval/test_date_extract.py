"""Publication dates from each kind of source: JSON fields, front matter, a date line at the top, and the ingestion fallback."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from retrieval.dates.extract import date_in_text, front_matter, parse_date, publication, timestamp
from retrieval.documents import read_documents
from retrieval.stores.catalog import Catalog


@pytest.mark.parametrize("value, iso", [
    ("2025-06-09", "2025-06-09"),
    ("2025-06-09T08:30:00+02:00", "2025-06-09T08:30:00+02:00"),
    ("2025-06-09T06:30:00Z", "2025-06-09T06:30:00+00:00"),
    ("Mon, 09 Jun 2025 08:30:00 GMT", "2025-06-09T08:30:00+00:00"),  # RSS pubDate
    ("Publié le 9 juin 2025", "2025-06-09"),
    ("lundi 9 juin 2025 à 14h30", "2025-06-09T14:30:00"),
    ("June 9, 2025", "2025-06-09"),
    ("9 June 2025", "2025-06-09"),
    ("09/06/2025", "2025-06-09"),
    ("le 1er février 2024", "2024-02-01"),
])
def test_dates_written_many_ways(value, iso):
    """Metadata and date lines in ISO 8601, RFC 2822, French and English words."""
    assert parse_date(value) == iso


@pytest.mark.parametrize("value", ["pas une date", "31 février 2025", "", "the 2024 election"])
def test_what_is_not_a_date(value):
    """No date is invented."""
    assert parse_date(value) is None


def test_a_date_line_at_the_top_counts_but_a_date_in_a_paragraph_does_not():
    """'Publié le …' under the title is the article's date; a date inside the story is about the news."""
    assert date_in_text("Par Jeanne Dupont\nPublié le 9 juin 2025\nLe texte.") == "2025-06-09"
    assert date_in_text("By Jane Doe\nJune 9, 2025\nBody") == "2025-06-09"
    long = "The summit of June 9, 2025 ended with a statement that nobody had expected, least of all the hosts who wrote it."
    assert date_in_text(f"{long}\nMore text.") is None
    assert date_in_text("One\nTwo\nThree\nFour\nPublié le 9 juin 2025") is None  # too far down


def test_front_matter():
    """--- date: … --- is read and taken out of the text."""
    meta, rest = front_matter("---\ntitle: Titre\ndate: 2025-06-09\n---\n# Titre\nCorps")
    assert meta == {"title": "Titre", "date": "2025-06-09"} and rest.startswith("# Titre")
    assert front_matter("Pas de bloc\n---\n") == ({}, "Pas de bloc\n---\n")


def test_a_date_alone_is_noon_utc_the_same_day_in_most_zones():
    """A date without a time lands on that calendar day from UTC-11 to UTC+11."""
    assert datetime.fromtimestamp(timestamp("2025-06-09"), timezone.utc).hour == 12


def test_ingestion_time_is_the_fallback_and_marked():
    """No date anywhere: the ingestion time, flagged as estimated."""
    at = datetime(2025, 6, 9, 10, tzinfo=timezone.utc)
    pub = publication(None, "Un texte sans date.", at)
    assert pub.estimated and pub.published_at == "2025-06-09T10:00:00+00:00"
    assert not publication("2025-06-01", "x", at).estimated
    assert publication(None, "Publié le 2 juin 2025\nTexte", at).published_at == "2025-06-02"


def test_each_kind_of_file_gets_its_date_in_the_catalog(tmp_path: Path):
    """JSON published_at, JSON date, Markdown front matter, a .txt date line, HTML page metadata, and an undated file."""
    (tmp_path / "a.jsonl").write_text(
        json.dumps({"title": "A", "text": "Alpha.", "published_at": "2025-06-09T08:00:00+02:00"}) + "\n"
        + json.dumps({"title": "B", "text": "Bravo.", "date": "Mon, 02 Jun 2025 10:00:00 GMT"}) + "\n", encoding="utf-8")
    (tmp_path / "c.md").write_text("---\ndate: 2025-05-20\n---\n# Charlie\nCharlie text.", encoding="utf-8")
    (tmp_path / "d.txt").write_text("Delta\nPublié le 3 juin 2025\nDelta text.", encoding="utf-8")
    (tmp_path / "e.txt").write_text("Echo\nEcho text without a date.", encoding="utf-8")
    (tmp_path / "f.html").write_text('<html><head><meta property="article:published_time" content="2025-06-04T07:00:00Z">'
                                     "</head><body><h1>Foxtrot</h1><p>Foxtrot text.</p></body></html>", encoding="utf-8")
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    docs = [d for name in ("a.jsonl", "c.md", "d.txt", "e.txt", "f.html") for d in read_documents(tmp_path / name)]
    assert [d.title for d in docs] == ["A", "B", "Charlie", "Delta", "Echo", "Foxtrot"]
    catalog.add(docs, [], ingested=datetime(2025, 6, 10, tzinfo=timezone.utc))
    got = dict((t, (p, bool(e))) for t, p, e in catalog.rows(
        "SELECT d.title, p.published_at, p.estimated FROM documents d JOIN published p USING (doc_id)"))
    assert got == {
        "A": ("2025-06-09T08:00:00+02:00", False), "B": ("2025-06-02T10:00:00+00:00", False),
        "Charlie": ("2025-05-20", False), "Delta": ("2025-06-03", False), "Echo": ("2025-06-10T00:00:00+00:00", True),
        "Foxtrot": ("2025-06-04T07:00:00+00:00", False),
    }
    catalog.close()


def test_an_older_index_gets_its_dates_and_stories_when_opened(tmp_path: Path):
    """Documents stored without publication rows are dated from their metadata or text the next time the catalog opens."""
    from retrieval.chunking import Chunk

    catalog = Catalog(tmp_path / "catalog.sqlite3")
    doc = read_documents(_write(tmp_path / "g.txt", "Golf\nPublié le 5 juin 2025\nGolf text."))[0]
    catalog.add([doc], [Chunk(doc.doc_id + ":0", doc.doc_id, doc.title, doc.text, 0, 0, len(doc.text))])
    for table in ("published", "stories", "story_bands"):  # as an older newsbot left it
        catalog.rows(f"DELETE FROM {table}")
    catalog.close()
    reopened = Catalog(tmp_path / "catalog.sqlite3")
    assert reopened.rows("SELECT published_at, estimated FROM published") == [("2025-06-05", 0)]
    assert reopened.rows("SELECT story FROM stories") == [(doc.doc_id,)]
    reopened.close()


def _write(path: Path, text: str) -> Path:
    """Write a file and return its path."""
    path.write_text(text, encoding="utf-8")
    return path
