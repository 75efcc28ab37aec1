"""Final fine grid around the chosen point (multi-vector dense, absi)."""
import itertools
from exp import *
S = Setup()
D = S.dense(True)
C = Setup(400, 100); DC = C.dense(True)
pid = np.array([u[0] for u in C.U]); DM = np.full(D.shape, -1.0, np.float32)
for j in range(len(C.U)): DM[:, pid[j]] = np.maximum(DM[:, pid[j]], DC[:, j])
DB = 0.3 * D + 0.7 * DM
L = np.load("cache/L-repo-col-3-1.npy")
for a, c in itertools.product((0.78, 0.8, 0.82, 0.85), (40, 50, 65, 80)):
    log(f"absi a={a} c={c} n=40 para+0.7*maxchunk400 lex=repo(3,1)", metrics(fuse(DB, L, "absi", n=40, a=a, c=c), S.ok))
for wt in (2, 5):
    L2, _ = S.lexical("repo", "col", wt, 1)
    log(f"absi a=0.8 c=50 n=40 para+0.7*maxchunk400 lex=repo({wt},1)", metrics(fuse(DB, L2, "absi", n=40, a=0.8, c=50), S.ok))
