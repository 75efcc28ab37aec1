"""Score-based fusion of the dense and lexical rankings, tuned on PIAF (see docs/retrieval.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

# Tuned on PIAF v1.0 (3,835 questions, 761 paragraphs, 40 candidates from each ranker).
# fused = DENSE_WEIGHT * cosine + (1 - DENSE_WEIGHT) * bm25 / (bm25 + LEXICAL_HALF)
DEFAULT_DENSE_WEIGHT = 0.8
DEFAULT_LEXICAL_HALF = 50.0
# The PostgreSQL catalog's weight, tuned on the whole PIAF beside SQLite's 0.8 (docs/retrieval.md): hit@1 / hit@3
# 0.776 / 0.887 at 0.75, 0.778 / 0.889 at 0.8, 0.777 / 0.891 at 0.85, against SQLite's 0.786 / 0.900 the same day.
PG_DENSE_WEIGHT = 0.85
# Below this top fused score the articles are taken not to answer. Calibrated on two sets (docs/retrieval.md):
# on the seed questions, answerable ones (English asked of French articles included) score >= 0.685 and
# off-topic ones <= 0.640; on PIAF's hard negatives (the gold article removed, close Wikipedia pages left)
# 0.69 would catch 70% at 3-4% false abstentions. 0.64 is the conservative first stage of two (docs/answers.md):
# it refuses only the clearly off-topic (all tuning-set ones score <= 0.639); the model's own "not in the passages"
# is the second stage, so an English question about a French passage (one scored 0.649) is not refused here.
DEFAULT_ABSTAIN_THRESHOLD = 0.64
# The PostgreSQL catalog's lexical ranker (its own stemming of French and English) scores more words than FTS5's, and its
# fusion weights the cosine more (retrieval.stores.pg_catalog): off-topic seed questions reached 0.68 there. Measured
# (docs/retrieval.md): 0.69 refuses all 5 off-topic seed questions (0.64: 2) with no false abstention on the seed set,
# the held-out set (recall 0.22) or the whole PIAF; at 0.70 one answerable held-out question is refused.
PG_ABSTAIN_THRESHOLD = 0.69
# FTS5 column weights for bm25(fts, title, body) measured best with the fused score.
DEFAULT_TITLE_WEIGHT = 3.0
DEFAULT_BODY_WEIGHT = 1.0


def saturate(bm25: float, half: float = DEFAULT_LEXICAL_HALF) -> float:
    """Map a positive BM25 score (``-bm25()``) into [0, 1): ``bm25 / (bm25 + half)``."""
    return bm25 / (bm25 + half) if bm25 > 0 else 0.0


def fuse(
    dense: Sequence[tuple[str, float]],
    lexical: Sequence[tuple[str, float]],
    *,
    dense_weight: float = DEFAULT_DENSE_WEIGHT,
    lexical_half: float = DEFAULT_LEXICAL_HALF,
) -> list[tuple[str, float]]:
    """Ids with fused scores, best first; dense scores are cosines, lexical ones positive BM25 (``-bm25()``).

    A lexical-only id gets the lowest cosine of the dense list (it ranked below all of
    them); a dense-only id gets no lexical part. Ties break on the id, for stable output.
    """
    cosines = {cid: float(score) for cid, score in dense}
    floor = min(cosines.values()) if cosines else 0.0
    lexicals = {cid: saturate(float(score), lexical_half) for cid, score in lexical}
    fused = {
        cid: dense_weight * cosines.get(cid, floor) + (1.0 - dense_weight) * lexicals.get(cid, 0.0)
        for cid in cosines.keys() | lexicals.keys()
    }
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


# A passage's dense score: PASSAGE_WEIGHT * its own cosine + (1 - PASSAGE_WEIGHT) * its best sub-chunk's (PIAF: +0.018 hit@1).
PASSAGE_WEIGHT = 0.3


def dense_by_parent(scored: Iterable[tuple[str, float]], parent: Callable[[str], str], *, passage_weight: float = PASSAGE_WEIGHT) -> list[tuple[str, float]]:
    """Collapse passage and sub-chunk cosines into one score per passage, best first (one missing: the other alone)."""
    own: dict[str, float] = {}
    best_sub: dict[str, float] = {}
    for vid, score in scored:
        pid = parent(vid)
        if pid == vid:
            own[pid] = float(score)
        elif score > best_sub.get(pid, float("-inf")):
            best_sub[pid] = float(score)
    out = {}
    for pid in own.keys() | best_sub.keys():
        if pid in own and pid in best_sub:  # a sub-vector that matches worse than the passage never drags it down
            out[pid] = passage_weight * own[pid] + (1 - passage_weight) * max(best_sub[pid], own[pid])
        else:
            out[pid] = own.get(pid, best_sub.get(pid))
    return sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))
