"""Document metadata (url, published_at, source, author) from the file to `ask --json` and both source lines."""

import io
import json

import pytest

from bot.cli.render import print_sources
from bot.telegram.formatting import source_line
from retrieval.documents import iso_date
from tests.conftest import both_backends, make_answerer
from tests.fakes import QUOTE_FIRST


def test_dates_are_read_as_iso_8601():
    assert iso_date("2025-06-10") == "2025-06-10"
    assert iso_date("2025-06-10T08:30:00Z") == "2025-06-10T08:30:00+00:00"
    assert iso_date("Tue, 10 Jun 2025 08:30:00 +0200") == "2025-06-10T08:30:00+02:00"
    assert iso_date("hier soir") is None and iso_date(None) is None


@pytest.fixture
def answerer(settings, fake_index, fake_generator, undated_seed):
    """The answer loop over the seed articles, all undated, and the test's wire story; never abstains.

    Passages are laid out oldest first and the fake generator quotes passage [1]: a dated seed article (10 June 2025)
    would stand before the wire story, dated 12 June or undated, and be the one source kept. Undated, the seed
    articles stand after it, and the wire story, the best match, is the passage quoted.
    """
    fake_index.indexer.ingest([undated_seed])
    answerer = make_answerer(settings, fake_index.searcher, fake_generator, top_k=3, abstain_threshold=0.0)
    yield answerer
    answerer.close()


def _ask(answerer, fake_index, tmp_path, records):
    answerer.generator.default = QUOTE_FIRST  # an answer the wire story supports, so the checked answer keeps its source
    path = tmp_path / "wire.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    fake_index.indexer.ingest([path])
    return list(answerer.answer_sync("grève des contrôleurs aériens"))[-1]


@both_backends
def test_sources_carry_published_at_author_url_and_source(answerer, fake_index, tmp_path):
    done = _ask(answerer, fake_index, tmp_path, [{
        "title": "Grève des contrôleurs aériens", "text": "Les contrôleurs aériens sont en grève ce jeudi à Orly.",
        "url": "https://ex.org/greve", "published_at": "2025-06-12T07:00:00+02:00", "source": "Le Monde",
        "author": "Jeanne Martin"}])
    top = done.sources[0].as_dict()
    assert {k: top[k] for k in ("url", "published_at", "source", "author", "published_kind")} == {
        "url": "https://ex.org/greve", "published_at": "2025-06-12T07:00:00+02:00", "source": "Le Monde",
        "author": "Jeanne Martin", "published_kind": "published"}
    out = io.StringIO()
    print_sources(done.sources[:1], out)
    assert "[1] Grève des contrôleurs aériens — Le Monde · 12 juin 2025" in out.getvalue()
    assert "— Le Monde · 12 juin 2025</b>" not in source_line(done.sources[0])
    assert "</b> — Le Monde · 12 juin 2025\n" in source_line(done.sources[0])


@both_backends
def test_an_undated_article_is_dated_when_added_and_marked_so(answerer, fake_index, tmp_path):
    done = _ask(answerer, fake_index, tmp_path, [{
        "title": "Grève des contrôleurs aériens", "text": "Les contrôleurs aériens sont en grève ce jeudi à Orly."}])
    top = done.sources[0]
    assert top.published_kind == "ingested" and len(top.published_at) >= 19
    assert "ajouté le " in top.origin()  # marked as the day it was added (a French question), not as a publication date
    first = top.published_at
    fake_index.indexer.ingest([tmp_path / "wire.jsonl"])  # a re-read keeps the date the article was first stored
    again = list(answerer.answer_sync("grève des contrôleurs aériens"))[-1].sources[0]
    assert again.published_at == first
