"""Whole paragraphs, title embedded: imputation, candidate count, multi-vector max over chunks."""
import itertools
from exp import *
S = Setup()
D = S.dense(True)
L = np.load("cache/L-repo-col-3-1.npy")
tag = "whole dense_title=True lex=repo(3,1)"
for n in (20, 40, 100):
    for a, c in ((0.75, 50), (0.8, 30), (0.7, 80)):
        log(f"absi a={a} c={c} n={n} {tag}", metrics(fuse(D, L, "absi", n=n, a=a, c=c), S.ok))
    log(f"abs a=0.75 c=50 n={n} {tag}", metrics(fuse(D, L, "abs", n=n, a=0.75, c=50), S.ok))
    log(f"z a=0.5 n={n} {tag}", metrics(fuse(D, L, "z", n=n, a=0.5), S.ok))
# multi-vector: paragraph cosine blended with best 400/100 chunk cosine
C = Setup(400, 100); DC = C.dense(True)
pid = np.array([u[0] for u in C.U]); DM = np.full(D.shape, -1.0, np.float32)
for j in range(len(C.U)): DM[:, pid[j]] = np.maximum(DM[:, pid[j]], DC[:, j])
log(f"dense maxchunk only {tag}", metrics(fuse(DM, L, "dense", n=100), S.ok))
for b in (0.3, 0.5):
    DB = (1 - b) * D + b * DM
    log(f"dense para+{b}*maxchunk only {tag}", metrics(fuse(DB, L, "dense", n=100), S.ok))
    for a, c in ((0.75, 50), (0.8, 30)):
        log(f"abs a={a} c={c} n=40 para+{b}*maxchunk {tag}", metrics(fuse(DB, L, "abs", n=40, a=a, c=c), S.ok))
    log(f"z a=0.5 n=40 para+{b}*maxchunk {tag}", metrics(fuse(DB, L, "z", n=40, a=0.5), S.ok))
