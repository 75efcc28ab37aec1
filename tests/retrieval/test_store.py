"""The Chroma store: cosine similarities back from distances, and an index built with another embedder refused."""

import numpy as np
import pytest

from bot.hints import explain
from retrieval.errors import IndexDamaged
from retrieval.stores.chroma import ChromaStore


def test_query_returns_cosine_similarities_best_first(tmp_path):
    store = ChromaStore.persistent(tmp_path / "chroma", "test-embedder", 3)
    store.upsert(["x", "y", "z"], np.array([[1, 0, 0], [0, 1, 0], [0.6, 0.8, 0]], dtype=np.float32))
    got = store.query(np.array([1, 0, 0], dtype=np.float32), 2)
    assert [i for i, _ in got] == ["x", "z"] and got[0][1] == pytest.approx(1.0) and got[1][1] == pytest.approx(0.6)
    store.delete(["x"])
    assert store.ids() == {"y", "z"} and store.count() == 2


def test_an_index_built_with_another_embedder_is_refused_with_the_remedy(tmp_path):
    ChromaStore.persistent(tmp_path / "chroma", "embedder-a", 3).upsert(["x"], np.ones((1, 3), dtype=np.float32))
    with pytest.raises(IndexDamaged) as err:
        ChromaStore.persistent(tmp_path / "chroma", "embedder-b", 384)
    message = str(err.value)
    assert "embedder-a" in message and "embedder-b" in message and "newsbot" not in message  # retrieval names no command
    assert explain(err.value).endswith("; run `newsbot ingest --rebuild`")


def test_query_on_an_empty_or_smaller_store_returns_what_there_is(tmp_path):
    store = ChromaStore.persistent(tmp_path / "chroma", "test-embedder", 3)
    assert store.query(np.array([1, 0, 0], dtype=np.float32), 10) == []
    store.upsert(["x", "y"], np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32))
    assert [i for i, _ in store.query(np.array([1, 0, 0], dtype=np.float32), 10)] == ["x", "y"]
    store.delete(["x", "y"])
    assert store.query(np.array([1, 0, 0], dtype=np.float32), 10) == []
