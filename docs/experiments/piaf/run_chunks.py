"""Chunked units (title embedded) vs whole paragraphs."""
import itertools
from exp import *
size, ov = int(sys.argv[1]), int(sys.argv[2])
S = Setup(size, ov)
D = S.dense(True)
L, ms = S.lexical("repo", "col", 3, 1)
tag = f"chunks={size}/{ov} units={len(S.U)} dense_title=True lex=repo(3,1)"
log(f"dense only {tag}", metrics(fuse(D, L, "dense", n=100), S.ok))
log(f"bm25 only {tag}", metrics(fuse(D, L, "lex", n=100), S.ok), p50_ms=round(float(np.median(ms)), 2))
for a, c in itertools.product((0.7, 0.75, 0.8), (20, 30, 50)):
    log(f"abs a={a} c={c} n=40 {tag}", metrics(fuse(D, L, "abs", n=40, a=a, c=c), S.ok))
log(f"z a=0.5 n=40 {tag}", metrics(fuse(D, L, "z", n=40, a=0.5), S.ok))
log(f"rrf k=60 n=40 {tag}", metrics(fuse(D, L, "rrf", n=40, k=60), S.ok))
