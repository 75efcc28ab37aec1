"""Lexical: bigram phrase boosts."""
from exp import *
S = Setup()
for wt in (1, 3):
    L, ms = S.lexical("stem", "col", wt, 1, bigrams=True)
    np.save(f"cache/L-stem-col-{wt}-1-bi.npy", L)
    log(f"bm25 norm=stem title=col w=({wt},1) +bigram phrases", metrics(fuse(np.zeros_like(L), L, "lex"), S.ok), p50_ms=round(float(np.median(ms)), 2), p95_ms=round(float(np.percentile(ms, 95)), 2))
