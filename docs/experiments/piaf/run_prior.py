"""Cheap fusion-side ideas on top of a dense score (no extra model pass):
article prior (boost a paragraph by the best *other* paragraph of its article), applied to the dense
score before fusion ("pre") or to the fused score ("post").
python run_prior.py [DENSE]   DENSE = 'base' (0.3*para+0.7*max400) or 'a,b,c,g' e.g. 0.2,0.5,0.3,sent
"""
import sys, itertools, json
import numpy as np
from gran import setup, gran, dense_from_spec, fused, all_splits, log_all

S = setup()
M4, _ = gran("400/100")
D = dense_from_spec(S, M4, (sys.argv[1:] or ["base"])[0])
art = np.unique([p[1] for p in S.paras], return_inverse=True)[1]


def other_best(X):
    """(Q,P): max of X over the other paragraphs of the same article (-inf if none / all -inf)."""
    out = np.full(X.shape, -np.inf, np.float32)
    for A in range(art.max() + 1):
        cols = np.flatnonzero(art == A)
        if len(cols) < 2:
            continue
        sub = X[:, cols]
        o = np.argsort(-sub, axis=1)
        top1 = np.take_along_axis(sub, o[:, :1], 1); top2 = np.take_along_axis(sub, o[:, 1:2], 1)
        is_top = np.arange(len(cols))[None, :] == o[:, :1]
        out[:, cols] = np.where(is_top, top2, top1)
    return out


grid = open("grid_prior.jsonl", "a")
base = all_splits(fused(D))
rows = {}
OB = other_best(D)
for lam in (0.02, 0.05, 0.1, 0.15, 0.2, 0.3):  # pre: D' = D + lam*(otherbest - D) clipped at 0 gain for missing
    Dp = D + lam * np.where(np.isfinite(OB), OB, D.min(1, keepdims=True))
    rows[("pre", lam)] = r = all_splits(fused(Dp / (1 + lam)))
    grid.write(json.dumps({"dense": spec, "mode": "pre", "lam": lam, **r}) + "\n")
F = fused(D)
Ff = np.where(np.isfinite(F), F, np.nan)
floor = np.nanmin(Ff, 1, keepdims=True)
OBF = other_best(np.where(np.isfinite(F), F, floor)); OBF = np.where(np.isfinite(OBF), OBF, floor)  # single-paragraph articles: no boost beyond the floor
for lam in (0.02, 0.05, 0.1, 0.15, 0.2, 0.3):
    Fp = np.where(np.isfinite(F), F + lam * OBF, -np.inf)
    rows[("post", lam)] = r = all_splits(Fp)
    grid.write(json.dumps({"dense": spec, "mode": "post", "lam": lam, **r}) + "\n")
print("base", {s: (round(m["hit@1"], 4), round(m["hit@3"], 4)) for s, m in base.items()})
for k, r in rows.items():
    print(k, {s: (round(m["hit@1"], 4), round(m["hit@3"], 4), round(m["mrr"], 4)) for s, m in r.items()}, flush=True)
best = max(rows, key=lambda k: rows[k]["tune"]["hit@3"] + 0.25 * rows[k]["tune"]["mrr"] if rows[k]["tune"]["hit@1"] >= base["tune"]["hit@1"] else -1)
mode, lam = best
if mode == "pre":
    Fb = fused((D + lam * np.where(np.isfinite(OB), OB, D.min(1, keepdims=True))) / (1 + lam))
else:
    Fb = np.where(np.isfinite(F), F + lam * OBF, -np.inf)
log_all(f"PRIOR article other-best {mode} lam={lam} dense={spec} absi a=0.8 c=50 n=40", Fb)
