"""Lexical evidence at a finer granularity, no extra model pass:
(1) BM25 of the best sentence / 400-char sub-chunk of a paragraph (FTS5 over those units, title column weight 3),
(2) IDF-weighted query-term coverage of the best sentence window: sum idf(q terms in window) / sum idf(q terms).
Added to the shipped fusion: F = 0.8*cos_imputed + 0.2*bm25/(bm25+50) + w*X, over the same candidates.
python run_lexsent.py [DENSE]   DENSE as in run_prior.py
"""
import sys, json, itertools, math
import numpy as np
sys.path.insert(0, "/work/main")
from retrieval import textnorm as tn
from exp import lexical_matrix, topn_mask
from gran import setup, gran, dense_from_spec, sent_units, all_splits, log_all
from common import units

S = setup()
M4, _ = gran("400/100")
D = dense_from_spec(S, M4, (sys.argv[1:] or ["base"])[0])
Q = [q[0] for q in S.qs]
P = len(S.paras)


def per_para_max(U, M):
    pid = np.array([u[0] for u in U])
    return np.maximum.reduceat(M, np.r_[0, np.flatnonzero(np.diff(pid)) + 1], axis=1)


feats = {}
for name, U in (("sent", sent_units(S.paras)), ("400/100", units(S.paras, 400, 100))):
    Lu, _ = lexical_matrix(U, Q, "repo", "col", 3, 1)
    feats[f"bm25[{name}]"] = per_para_max(U, Lu)

# IDF-weighted coverage
pterms = [set(tn.terms(p[1] + " " + p[2])) for p in S.paras]
df = {}
for ts in pterms:
    for t in ts:
        df[t] = df.get(t, 0) + 1
idf = lambda t: math.log((P - df.get(t, 0) + 0.5) / (df.get(t, 0) + 0.5) + 1)
qterms = [list(dict.fromkeys(tn.terms(q))) for q in Q]
for win in (1, 2):
    SU = sent_units(S.paras)
    byp = {}
    for u in SU:
        byp.setdefault(u[0], []).append(set(tn.terms(u[1] + " " + u[4])))  # title counts as present in every window
    wins = {p: [set().union(*ss[i:i + win]) for i in range(max(1, len(ss) - win + 1))] for p, ss in byp.items()}
    C = np.zeros((len(Q), P), np.float32)
    for qi, qt in enumerate(qterms):
        if not qt:
            continue
        w = {t: idf(t) for t in qt}; tot = sum(w.values())
        for p in range(P):
            if not (pterms[p] & w.keys()):
                continue
            C[qi, p] = max(sum(w[t] for t in ws if t in w) for ws in wins[p]) / tot
    feats[f"cov[win{win}]"] = C
    print("coverage", win, "done", flush=True)

n = 40
md, ml = topn_mask(D, n), topn_mask(np.where(S.L > 0, S.L, -np.inf), n)
cand = md | ml
dmin = np.where(md, D, np.inf).min(1, keepdims=True)
F0 = 0.8 * np.where(md, D, dmin) + 0.2 * np.where(ml, S.L / (S.L + 50), 0)
base = all_splits(np.where(cand, F0, -np.inf))
print("base", {k: (round(m["hit@1"], 4), round(m["hit@3"], 4)) for k, m in base.items()}, flush=True)
grid = open("grid_lexsent.jsonl", "a")
rows = {}
for fname, X in feats.items():
    transforms = {"sat10": lambda X: X / (X + 10), "sat30": lambda X: X / (X + 30)} if fname.startswith("bm25") else {"raw": lambda X: X, "sq": lambda X: X ** 2}
    for tname, tf in transforms.items():
        Xt = tf(X)
        for w in (0.02, 0.04, 0.06, 0.08, 0.1, 0.15):
            r = all_splits(np.where(cand, (F0 + w * Xt) / (1 + w), -np.inf))
            rows[(fname, tname, w)] = r
            grid.write(json.dumps({"dense": spec, "feat": fname, "tf": tname, "w": w, **r}) + "\n")
            print(fname, tname, w, {k: (round(m["hit@1"], 4), round(m["hit@3"], 4), round(m["mrr"], 4)) for k, m in r.items()}, flush=True)
np.save("cache/lexsent-feats.npy", feats, allow_pickle=True)
ok = lambda k: rows[k]["tune"]["hit@1"] >= base["tune"]["hit@1"]
best = max(rows, key=lambda k: rows[k]["tune"]["hit@3"] + 0.25 * rows[k]["tune"]["mrr"] if ok(k) else -1)
fname, tname, w = best
tf = {"sat10": lambda X: X / (X + 10), "sat30": lambda X: X / (X + 30), "raw": lambda X: X, "sq": lambda X: X ** 2}[tname]
log_all(f"LEXSENT best-on-tune +{w}*{tname}({fname}) dense={spec} absi a=0.8 c=50 n=40", np.where(cand, (F0 + w * tf(feats[fname])) / (1 + w), -np.inf))
