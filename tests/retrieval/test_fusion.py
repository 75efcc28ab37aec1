"""Tests for the score-based fusion of dense and lexical rankings (the abstention rule is tested through the answer loop)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrieval.fusion import (
    DEFAULT_DENSE_WEIGHT,
    DEFAULT_LEXICAL_HALF,
    fuse,
    saturate,
)


def test_saturate_is_bounded_and_monotone():
    assert saturate(0.0) == 0.0
    assert saturate(-3.0) == 0.0
    assert saturate(DEFAULT_LEXICAL_HALF) == pytest.approx(0.5)
    assert 0 < saturate(1.0) < saturate(10.0) < saturate(1000.0) < 1.0


def test_fuse_is_the_documented_convex_mix():
    fused = dict(fuse([("a", 0.85), ("b", 0.80)], [("a", 20.0)]))
    w = DEFAULT_DENSE_WEIGHT
    assert fused["a"] == pytest.approx(w * 0.85 + (1 - w) * 20.0 / (20.0 + DEFAULT_LEXICAL_HALF))
    assert fused["b"] == pytest.approx(w * 0.80)


def test_lexical_only_hit_gets_the_dense_floor():
    fused = dict(fuse([("a", 0.86), ("b", 0.79)], [("c", 30.0)]))
    assert fused["c"] == pytest.approx(DEFAULT_DENSE_WEIGHT * 0.79 + (1 - DEFAULT_DENSE_WEIGHT) * saturate(30.0))


def test_agreement_between_rankers_wins():
    dense = [("x", 0.84), ("y", 0.83), ("z", 0.82)]
    lexical = [("y", 30.0), ("q", 28.0)]
    assert fuse(dense, lexical)[0][0] == "y"


def test_strong_lexical_evidence_overrides_a_small_cosine_gap():
    dense = [("close", 0.840), ("named", 0.835)]
    lexical = [("named", 40.0), ("close", 2.0)]
    assert [cid for cid, _ in fuse(dense, lexical)] == ["named", "close"]


def test_empty_inputs():
    assert fuse([], []) == []
    assert [cid for cid, _ in fuse([("a", 0.8)], [])] == ["a"]
    assert [cid for cid, _ in fuse([], [("a", 3.0), ("b", 9.0)])] == ["b", "a"]


def test_ties_break_on_id_for_stable_output():
    assert [cid for cid, _ in fuse([("b", 0.8), ("a", 0.8)], [])] == ["a", "b"]


def test_weights_can_be_overridden():
    dense, lexical = [("d", 0.9), ("l", 0.5)], [("l", 100.0)]
    assert fuse(dense, lexical, dense_weight=1.0)[0][0] == "d"
    assert fuse(dense, lexical, dense_weight=0.0)[0][0] == "l"


@given(
    st.lists(st.tuples(st.text(min_size=1, max_size=3), st.floats(-1, 1)), max_size=20),
    st.lists(st.tuples(st.text(min_size=1, max_size=3), st.floats(0, 500)), max_size=20),
)
def test_fuse_properties(dense, lexical):
    fused = fuse(dense, lexical)
    ids = [cid for cid, _ in fused]
    assert len(ids) == len(set(ids)) == len({c for c, _ in dense} | {c for c, _ in lexical})
    scores = [s for _, s in fused]
    assert scores == sorted(scores, reverse=True)
    assert all(math.isfinite(s) and -1.0 <= s <= 1.0 for s in scores)


def test_dense_by_parent_blends_a_passage_with_its_best_sub_chunk():
    from retrieval.chunking import parent_id
    from retrieval.fusion import dense_by_parent

    scored = [("a#1", 0.9), ("b", 0.8), ("a", 0.5), ("a#0", 0.6), ("c#0", 0.7), ("d", 0.6), ("d#0", 0.1)]
    out = dict(dense_by_parent(scored, parent_id, passage_weight=0.3))
    assert out["a"] == pytest.approx(0.3 * 0.5 + 0.7 * 0.9)
    assert out["d"] == pytest.approx(0.6)  # a poor sub-chunk does not drag its passage down
    assert out["b"] == 0.8 and out["c"] == 0.7  # only one of the two: that one alone
    assert [p for p, _ in dense_by_parent(scored, parent_id)] == ["b", "a", "c", "d"]
