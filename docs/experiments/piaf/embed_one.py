"""Embed one unit set: python embed_one.py SIZE OVERLAP title|plain."""
import sys, time
from common import *
paras, qs = load()
size, ov, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
U = units(paras, size, ov)
t = time.time(); dense_passages([f"{u[1]}. {u[4]}" if mode == "title" else u[4] for u in U]); print(size, ov, mode, len(U), time.time() - t, flush=True)
