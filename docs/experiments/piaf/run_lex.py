"""Lexical-only variants on whole paragraphs."""
from exp import *
S = Setup()
for norm, tm, wt, wb in [("base", "none", 1, 1), ("base", "body", 1, 1), ("stop", "body", 1, 1), ("stem_nostop", "body", 1, 1),
                         ("stem", "none", 1, 1), ("stem", "body", 1, 1), ("stem", "col", 1, 1), ("stem", "col", 2, 1), ("stem", "col", 3, 1), ("stem", "col", 5, 1)]:
    L, ms = S.lexical(norm, tm, wt, wb)
    np.save(f"cache/L-{norm}-{tm}-{wt}-{wb}.npy", L)
    log(f"bm25 norm={norm} title={tm} w=({wt},{wb})", metrics(fuse(None if False else np.zeros_like(L), L, "lex"), S.ok), p50_ms=round(float(np.median(ms)), 2), p95_ms=round(float(np.percentile(ms, 95)), 2))
