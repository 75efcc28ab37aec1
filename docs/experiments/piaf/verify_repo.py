"""End-to-end check of retrieval.textnorm + retrieval.fusion as shipped: per-query SQL + fuse, timed."""
import sys, time, sqlite3
import numpy as np
sys.path.insert(0, "/work/main")
from retrieval.textnorm import fts_text, fts_query
from retrieval import fusion
from exp import Setup, log
mode = (sys.argv[1:] or ["mv"])[0]
S = Setup(); N = 40
D = S.dense(True)
if mode == "mv":
    C = Setup(400, 100); DC = C.dense(True)
    pid = np.array([u[0] for u in C.U]); DM = np.full(D.shape, -1.0, np.float32)
    for j in range(len(C.U)): DM[:, pid[j]] = np.maximum(DM[:, pid[j]], DC[:, j])
    D = 0.3 * D + 0.7 * DM
db = sqlite3.connect(":memory:")
db.execute("CREATE VIRTUAL TABLE fts USING fts5(title, body, tokenize='unicode61 remove_diacritics 2')")
for i, u in enumerate(S.U):
    db.execute("INSERT INTO fts(rowid,title,body) VALUES (?,?,?)", (i, fts_text(u[1]), fts_text(u[4])))
wt, wb = fusion.DEFAULT_TITLE_WEIGHT, fusion.DEFAULT_BODY_WEIGHT
sql = f"SELECT rowid, -bm25(fts,{wt},{wb}) FROM fts WHERE fts MATCH ? ORDER BY bm25(fts,{wt},{wb}) LIMIT {N}"
first, ms, tops = [], [], []
for qi, q in enumerate(S.qs):
    t = time.perf_counter()
    d = D[qi]; idx = np.argpartition(-d, N)[:N]; dense = [(str(i), float(d[i])) for i in idx]
    m = fts_query(q[0]); lex = [(str(r), s) for r, s in db.execute(sql, (m,))] if m else []
    fused = fusion.fuse(dense, lex)
    ms.append((time.perf_counter() - t) * 1000)
    ranks = [r for r, (cid, _) in enumerate(fused[:100], 1) if S.ok[qi, int(cid)]]
    first.append(ranks[0] if ranks else 10**9)
first = np.array(first)
r = {f"hit@{k}": float((first <= k).mean()) for k in (1, 3, 5, 10)}; r["mrr"] = float(np.where(first < 10**9, 1 / first, 0).mean())
log(f"REPO textnorm+fusion.fuse defaults, dense={'para+0.7*maxchunk400' if mode == 'mv' else 'whole paragraphs'} title embedded, n={N}", r,
    p50_ms=round(float(np.median(ms)), 2), p95_ms=round(float(np.percentile(ms, 95)), 2), note="ms excludes query embedding")
