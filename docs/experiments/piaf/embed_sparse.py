"""Sparse latent-term vectors for queries and whole paragraphs (title. text)."""
import time
from common import *
paras, qs = load()
t = time.time(); sparse_vecs([f"{p[1]}. {p[2]}" for p in paras], "sp-title"); print("passages", time.time() - t, flush=True)
t = time.time(); sparse_vecs([q[0] for q in qs], "sq"); print("queries", time.time() - t, flush=True)
