"""Precompute and cache every embedding the experiments need."""
import sys, time
from common import *
paras, qs = load()
t = time.time(); dense_queries([q[0] for q in qs]); print("queries", time.time() - t, flush=True)
for size, ov in [(0, 0)] + [tuple(map(int, a.split(","))) for a in sys.argv[1:]]:
    U = units(paras, size, ov)
    t = time.time(); dense_passages([u[4] for u in U]); print(size, ov, "plain", len(U), time.time() - t, flush=True)
    t = time.time(); dense_passages([f"{u[1]}. {u[4]}" for u in U]); print(size, ov, "title", time.time() - t, flush=True)
