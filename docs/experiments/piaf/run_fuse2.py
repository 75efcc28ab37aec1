"""Finer sweeps: abs fusion c/a grid, bigram lexical, candidate count."""
import itertools
from exp import *
S = Setup()
title = (sys.argv[1:] or ["0"])[0] == "1"
D = S.dense(title); tag = f"dense_title={title}"
for lx in ("L-stem-col-3-1", "L-stem-col-3-1-bi"):
    L = np.load(f"cache/{lx}.npy")
    for a, c in itertools.product((0.75, 0.8, 0.85), (20, 30, 50)):
        log(f"abs a={a} c={c} n=40 {tag} {lx}", metrics(fuse(D, L, "abs", n=40, a=a, c=c), S.ok))
    log(f"z a=0.5 n=40 {tag} {lx}", metrics(fuse(D, L, "z", n=40, a=0.5), S.ok))
    log(f"z a=0.45 n=40 {tag} {lx}", metrics(fuse(D, L, "z", n=40, a=0.45), S.ok))
