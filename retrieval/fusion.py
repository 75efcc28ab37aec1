"""Fusion of the dense and lexical rankings (provisional: reciprocal rank fusion until the PIAF measurements land)."""

from __future__ import annotations

from typing import Sequence

RRF_K = 60
DEFAULT_ABSTAIN_THRESHOLD = 0.0


def fuse(dense: Sequence[tuple[str, float]], lexical: Sequence[tuple[str, float]], *, k: int = RRF_K) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: each ranking adds 1 / (k + rank)."""
    scores: dict[str, float] = {}
    for ranking in (dense, lexical):
        for rank, (cid, _) in enumerate(ranking, 1):
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
