"""Fusion sweeps on whole paragraphs (dense plain/title x lexical stem)."""
import itertools
from exp import *
S = Setup()
L = np.load("cache/L-stem-col-3-1.npy")
for title in [t == "1" for t in (sys.argv[1:] or ["0"])]:
    D = S.dense(title)
    tag = f"dense_title={title}"
    log(f"dense only, {tag}", metrics(fuse(D, L, "dense", n=100), S.ok))
    for n in (20, 40, 100):
        log(f"rrf k=60 n={n} {tag}", metrics(fuse(D, L, "rrf", n=n, k=60), S.ok))
    for k, wd in itertools.product((5, 20, 60), (0.7, 1.0, 1.5)):
        log(f"rrf k={k} wd={wd} n=40 {tag}", metrics(fuse(D, L, "rrf", n=40, k=k, wd=wd), S.ok))
    for a in (0.3, 0.4, 0.5, 0.6, 0.7):
        log(f"minmax a={a} n=40 {tag}", metrics(fuse(D, L, "minmax", n=40, a=a), S.ok))
        log(f"z a={a} n=40 {tag}", metrics(fuse(D, L, "z", n=40, a=a), S.ok))
    for a, c in itertools.product((0.5, 0.7, 0.8, 0.9), (5, 10, 20)):
        log(f"abs a={a} c={c} n=40 {tag}", metrics(fuse(D, L, "abs", n=40, a=a, c=c), S.ok))
