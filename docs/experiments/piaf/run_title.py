"""Whole paragraphs with 'Title. text' embedded: fusion sweeps."""
import itertools
from exp import *
S = Setup()
D = S.dense(True)
L, ms = S.lexical("repo", "col", 3, 1); np.save("cache/L-repo-col-3-1.npy", L)
tag = "whole dense_title=True lex=repo(3,1)"
log(f"dense only {tag}", metrics(fuse(D, L, "dense", n=100), S.ok))
log(f"bm25 only {tag}", metrics(fuse(D, L, "lex", n=100), S.ok), p50_ms=round(float(np.median(ms)), 2), p95_ms=round(float(np.percentile(ms, 95)), 2))
log(f"rrf k=60 n=40 {tag}", metrics(fuse(D, L, "rrf", n=40, k=60), S.ok))
for k, wd in itertools.product((5, 20), (0.7, 1.0)):
    log(f"rrf k={k} wd={wd} n=40 {tag}", metrics(fuse(D, L, "rrf", n=40, k=k, wd=wd), S.ok))
for a in (0.4, 0.5, 0.6):
    log(f"z a={a} n=40 {tag}", metrics(fuse(D, L, "z", n=40, a=a), S.ok))
    log(f"minmax a={a} n=40 {tag}", metrics(fuse(D, L, "minmax", n=40, a=a), S.ok))
for a, c in itertools.product((0.6, 0.7, 0.75, 0.8, 0.85), (20, 30, 50, 80)):
    log(f"abs a={a} c={c} n=40 {tag}", metrics(fuse(D, L, "abs", n=40, a=a, c=c), S.ok))
