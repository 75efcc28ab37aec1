"""Abstention calibration for the chosen fusion (and raw features for contrast)."""
from exp import *
S = Setup()
D = S.dense(True)
L = np.load("cache/L-repo-col-3-1.npy")
C = Setup(400, 100); DC = C.dense(True)
pid = np.array([u[0] for u in C.U]); DM = np.full(D.shape, -1.0, np.float32)
for j in range(len(C.U)): DM[:, pid[j]] = np.maximum(DM[:, pid[j]], DC[:, j])
out = {}
for name, DD, method, p in [("absi a=0.8 c=50 n=40 para+0.7*maxchunk400", 0.3 * D + 0.7 * DM, "absi", dict(a=0.8, c=50)),
                            ("absi a=0.8 c=50 n=40 maxchunk400 only", DM, "absi", dict(a=0.8, c=50)),
                            ("absi a=0.8 c=50 n=40 whole paragraphs", D, "absi", dict(a=0.8, c=50)),
                            ("max cosine only (para+0.7*maxchunk400)", 0.3 * D + 0.7 * DM, "dense", {}),
                            ("rrf k=60 (ranks only)", 0.3 * D + 0.7 * DM, "rrf", dict(k=60))]:
    auc, rows = abstention(S, DD, L, method, n=40, **p)
    print(name, "AUC", round(auc, 4)); [print("  ", r) for r in rows]
    out[name] = dict(auc=auc, rows=rows)
json.dump(out, open("abstention.json", "w"), indent=1)
