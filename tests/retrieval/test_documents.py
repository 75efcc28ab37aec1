"""Article parsing: the seed file's three documents, each supported format, and files that cannot be read."""

import json

import pytest

from retrieval.documents import read_documents
from retrieval.errors import IngestError
from tests.conftest import SEED_FILE


def test_seed_file_is_three_documents_with_their_own_titles():
    docs = read_documents(SEED_FILE)
    assert [d.title[:30] for d in docs] == [
        "Meta prépare un investissement",
        "Londres, théâtre de la deuxièm",
        "Trump et Xi Jinping relancent ",
    ]
    assert "plus de 10 milliards de dollars" in docs[0].text
    assert "Découvrir plus" not in docs[0].text
    assert docs[2].text.startswith("Le 7 juin 2025")
    assert len({d.doc_id for d in docs}) == 3


def test_ids_depend_on_content_only(tmp_path):
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_text("Titre\nUn texte.\n", encoding="utf-8")
    b.write_text("Titre\nUn texte.\n", encoding="utf-8")
    assert read_documents(a)[0].doc_id == read_documents(b)[0].doc_id
    b.write_text("Titre\nUn autre texte.\n", encoding="utf-8")
    assert read_documents(a)[0].doc_id != read_documents(b)[0].doc_id


def test_markdown_title_loses_its_hashes(tmp_path):
    f = tmp_path / "a.md"
    f.write_text("# Le titre\n\nLe corps de l'article.\n", encoding="utf-8")
    (doc,) = read_documents(f)
    assert doc.title == "Le titre"
    assert doc.text == "Le corps de l'article."


def test_html_keeps_text_and_drops_scripts(tmp_path):
    f = tmp_path / "a.html"
    f.write_text(
        "<html><head><title>Page</title><script>var x = 'secret';</script></head>"
        "<body><nav>Menu</nav><h1>Le vrai titre</h1><p>Premier &amp; paragraphe.</p><p>Second.</p></body></html>",
        encoding="utf-8",
    )
    (doc,) = read_documents(f)
    assert doc.title == "Le vrai titre"
    assert doc.text == "Premier & paragraphe.\nSecond."


def test_json_and_jsonl_articles_keep_metadata(tmp_path):
    f = tmp_path / "a.json"
    f.write_text(json.dumps([{"title": "T1", "text": "Texte un.", "url": "https://ex.org/1", "date": "2025-06-10"}]), encoding="utf-8")
    (doc,) = read_documents(f)
    assert (doc.title, doc.url, doc.published_at, doc.source) == ("T1", "https://ex.org/1", "2025-06-10", "a.json")
    assert doc.published_kind == "published"
    g = tmp_path / "b.jsonl"
    g.write_text('{"title": "A", "text": "x"}\n\n{"title": "B", "text": "y", "source": "AFP"}\n', encoding="utf-8")
    docs = read_documents(g)
    assert [(d.title, d.source) for d in docs] == [("A", "b.jsonl"), ("B", "AFP")]


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"  \n\n", "empty"),
        ("binary.txt", bytes(range(256)) * 4, "binary"),
        ("bad.json", b'{"title": ', "invalid JSON"),
        ("notext.json", b'{"title": "x"}', "'text'"),
        ("a.pdf", b"%PDF-1.4", "unsupported"),
    ],
)
def test_unreadable_files_raise_an_error_naming_them(tmp_path, name, content, reason):
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(IngestError) as err:
        read_documents(f)
    assert name in str(err.value) and reason in str(err.value)


def test_latin1_file_is_decoded_not_lost(tmp_path):
    f = tmp_path / "latin.txt"
    f.write_bytes("Élections\nLe défi économique de l'été.\n".encode("latin-1"))
    (doc,) = read_documents(f)
    assert doc.title == "Élections" and "économique" in doc.text


def test_invisible_and_bidi_characters_are_stripped(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("Titre\u202e caché\nTex\u200bte\x00 ici.\n", encoding="utf-8")
    (doc,) = read_documents(f)
    assert "\u202e" not in doc.title and doc.text == "Texte ici."
