"""Multi-vector dense (paragraph + best sub-chunk) with absi fusion; abstention tables."""
import itertools
from exp import *
S = Setup()
D = S.dense(True)
L = np.load("cache/L-repo-col-3-1.npy")
C = Setup(400, 100); DC = C.dense(True)
pid = np.array([u[0] for u in C.U]); DM = np.full(D.shape, -1.0, np.float32)
for j in range(len(C.U)): DM[:, pid[j]] = np.maximum(DM[:, pid[j]], DC[:, j])
tag = "whole dense_title=True lex=repo(3,1)"
for b in (0.5, 0.7, 1.0):
    DB = (1 - b) * D + b * DM
    for (a, c), n in itertools.product(((0.75, 50), (0.8, 30), (0.7, 80), (0.8, 50)), (40, 100)):
        log(f"absi a={a} c={c} n={n} para+{b}*maxchunk400 {tag}", metrics(fuse(DB, L, "absi", n=n, a=a, c=c), S.ok))
