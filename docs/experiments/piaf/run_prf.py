"""Dense pseudo-relevance feedback (Rocchio) without a second model pass:
q' = normalize(q + beta * mean(vectors of the top-k fused paragraphs)), then the dense score and the
fusion are recomputed with q' (one more vector search, no model call).
python run_prf.py
"""
import json, itertools
import numpy as np
from gran import setup, gran, fused, all_splits, log_all
from common import units, dense_passages

S = setup()
M4, _ = gran("400/100")
P0 = dense_passages([f"{u[1]}. {u[4]}" for u in S.U])
U4 = units(S.paras, 400, 100); P4 = dense_passages([f"{u[1]}. {u[4]}" for u in U4])
pid4 = np.array([u[0] for u in U4]); starts = np.r_[0, np.flatnonzero(np.diff(pid4)) + 1]


def dense(Q):
    return 0.3 * (Q @ P0.T) + 0.7 * np.maximum.reduceat(Q @ P4.T, starts, axis=1)


D = dense(S.Q)
F = fused(D)
base = all_splits(F)
order = np.argsort(-F, 1)
grid = open("grid_prf.jsonl", "a")
rows = {}
for k, beta in itertools.product((1, 2, 3, 5), (0.1, 0.2, 0.3, 0.5)):
    fb = P0[order[:, :k]].mean(1)
    Q2 = S.Q + beta * fb; Q2 /= np.linalg.norm(Q2, axis=1, keepdims=True)
    r = rows[(k, beta)] = all_splits(fused(dense(Q2)))
    grid.write(json.dumps({"k": k, "beta": beta, **r}) + "\n")
    print(k, beta, {s: (round(m["hit@1"], 4), round(m["hit@3"], 4), round(m["mrr"], 4)) for s, m in r.items()}, flush=True)
best = max(rows, key=lambda x: rows[x]["tune"]["hit@3"] + 0.25 * rows[x]["tune"]["mrr"] if rows[x]["tune"]["hit@1"] >= base["tune"]["hit@1"] else -1)
k, beta = best
fb = P0[order[:, :k]].mean(1); Q2 = S.Q + beta * fb; Q2 /= np.linalg.norm(Q2, axis=1, keepdims=True)
log_all(f"PRF rocchio k={k} beta={beta} (para vectors of fused top-k) dense=base absi a=0.8 c=50 n=40", fused(dense(Q2)))
