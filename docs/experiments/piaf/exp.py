"""PIAF retrieval experiments: lexical variants, dense variants, fusion variants, abstention."""
import os, sys, time, sqlite3, json, re, unicodedata
import numpy as np
sys.path.insert(0, "/work/main")
from retrieval import textnorm as tn
from common import load, units, dense_passages, dense_queries

NL = 100  # candidates kept from SQL per query
LOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.jsonl")

# ---------- lexical normalisers ----------
_W = re.compile(r"\w+")
def norm_base(t):  # README baseline: lower, fold accents, \w+
    return [tn.fold(w) for w in _W.findall(t.lower())]
def norm_stop(t):  # elisions + stop words, no stemming
    return [tn.fold(w) for w in tn._words(t) if tn.fold(w) not in tn._STOP]
def norm_stem_nostop(t):
    return [tn._stem(w) for w in tn._words(t)]
NORMS = {"repo": tn.terms, "base": norm_base, "stop": norm_stop, "stem": tn.terms, "stem_nostop": norm_stem_nostop}


def lexical_matrix(U, queries, norm, title_mode, wt=1.0, wb=1.0, bigrams=False):
    """(Q,U) positive BM25 scores (0 = not retrieved) and per-query ms."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE fts USING fts5(title, body, tokenize='unicode61 remove_diacritics 0')")
    f = NORMS[norm]
    for i, u in enumerate(U):
        title, body = " ".join(f(u[1])), " ".join(f(u[4]))
        if title_mode == "none": title = ""
        elif title_mode == "body": body, title = title + " " + body, ""
        db.execute("INSERT INTO fts(rowid,title,body) VALUES (?,?,?)", (i, title, body))
    M = np.zeros((len(queries), len(U)), np.float32); ms = []
    sql = f"SELECT rowid, -bm25(fts,{wt},{wb}) FROM fts WHERE fts MATCH ? ORDER BY bm25(fts,{wt},{wb}) LIMIT {NL}"
    for qi, q in enumerate(queries):
        t = time.perf_counter()
        toks = dict.fromkeys(f(q))
        parts = ['"' + x + '"' for x in toks] if norm != "repo" else [tn.fts_query(q)]
        if bigrams and norm != "repo":
            tl = f(q); parts += ['"' + a + " " + b + '"' for a, b in dict.fromkeys(zip(tl, tl[1:]))]
        m = " OR ".join(parts)
        rows = db.execute(sql, (m,)).fetchall() if m else []
        ms.append((time.perf_counter() - t) * 1000)
        for r, s in rows:
            M[qi, r] = s
    return M, np.array(ms)


def topn_mask(S, n, valid=None):
    """Boolean mask of each row's top-n entries (only where valid)."""
    S = np.where(valid, S, -np.inf) if valid is not None else S
    idx = np.argpartition(-S, min(n, S.shape[1] - 1), axis=1)[:, :n]
    M = np.zeros(S.shape, bool); np.put_along_axis(M, idx, True, 1)
    if valid is not None: M &= valid
    return M & np.isfinite(S)


def ranks(S, mask):
    """1-based rank of each entry among the masked ones (inf elsewhere)."""
    S2 = np.where(mask, S, -np.inf)
    order = np.argsort(-S2, axis=1, kind="stable")
    R = np.empty(S.shape, np.float32); np.put_along_axis(R, order, np.arange(1, S.shape[1] + 1, dtype=np.float32)[None, :].repeat(S.shape[0], 0), 1)
    return np.where(mask, R, np.inf)


def minmax(S, mask):
    lo = np.where(mask, S, np.inf).min(1, keepdims=True); hi = np.where(mask, S, -np.inf).max(1, keepdims=True)
    rng = np.where(hi - lo > 1e-9, hi - lo, 1.0)
    return np.where(mask, (S - lo) / rng, 0.0)


def zs(S, mask):
    n = np.maximum(mask.sum(1, keepdims=True), 1)
    mu = np.where(mask, S, 0).sum(1, keepdims=True) / n
    sd = np.sqrt(np.where(mask, (S - mu) ** 2, 0).sum(1, keepdims=True) / n) + 1e-6
    return np.where(mask, (S - mu) / sd, np.nan)


def fuse(D, L, method, n=40, valid=None, **p):
    """(Q,U) fused scores, -inf for non-candidates."""
    md = topn_mask(D, n, valid)
    ml = topn_mask(np.where(L > 0, L, -np.inf), n, valid)
    cand = md | ml
    if method == "dense": F = np.where(md, D, -np.inf); return F
    if method == "lex": return np.where(ml, L, -np.inf)
    if method == "rrf":
        k, wd, wl = p.get("k", 60), p.get("wd", 1.0), p.get("wl", 1.0)
        F = wd / (k + ranks(D, md)) + wl / (k + ranks(L, ml))
    elif method == "minmax":
        a = p["a"]; F = a * minmax(D, md) + (1 - a) * minmax(L, ml)
    elif method == "z":
        a = p["a"]; zd, zl = zs(D, md), zs(L, ml)
        floor_d = np.nanmin(zd, 1, keepdims=True); floor_l = np.nanmin(zl, 1, keepdims=True)
        F = a * np.where(md, zd, floor_d) + (1 - a) * np.where(ml, zl, floor_l)
    elif method == "abs":  # cosine + saturated bm25
        a, c = p["a"], p["c"]; F = a * np.where(md, D, 0) + (1 - a) * np.where(ml, L / (L + c), 0)
    elif method == "absi":  # cosine (missing -> list minimum) + saturated bm25
        a, c = p["a"], p["c"]; dmin = np.where(md, D, np.inf).min(1, keepdims=True)
        F = a * np.where(md, D, dmin) + (1 - a) * np.where(ml, L / (L + c), 0)
    elif method == "absmm":  # absolute cosine + bm25 relative to the best lexical score
        a = p["a"]; Lm = np.where(ml, L, 0).max(1, keepdims=True); F = a * np.where(md, D, 0) + (1 - a) * np.where(ml, L / np.maximum(Lm, 1e-9), 0)
    return np.where(cand, F, -np.inf)


def metrics(F, gold_ok):
    """hit@k, mrr from fused matrix and (Q,U) bool of acceptable units."""
    order = np.argsort(-F, axis=1)[:, :100]
    ok = np.take_along_axis(gold_ok, order, 1) & np.isfinite(np.take_along_axis(F, order, 1))
    first = np.where(ok.any(1), ok.argmax(1) + 1, 10**9)
    r = {f"hit@{k}": float((first <= k).mean()) for k in (1, 3, 5, 10)}
    r["mrr"] = float(np.where(first < 10**9, 1.0 / first, 0).mean())
    return r


def log(name, r, **extra):
    r = {"config": name, **{k: round(v, 4) for k, v in r.items()}, **extra}
    print(json.dumps(r), flush=True)
    open(LOG, "a").write(json.dumps(r) + "\n")


class Setup:
    def __init__(self, size=0, overlap=0):
        self.paras, self.qs = load()
        self.U = units(self.paras, size, overlap)
        self.size, self.overlap = size, overlap
        pid = np.array([u[0] for u in self.U]); st = np.array([u[2] for u in self.U]); en = np.array([u[3] for u in self.U])
        gp = np.array([q[1] for q in self.qs]); gs = np.array([q[2] for q in self.qs]); ge = np.array([q[3] for q in self.qs])
        self.ok = (pid[None, :] == gp[:, None]) & (st[None, :] <= gs[:, None]) & (en[None, :] >= ge[:, None])
        titles = np.array([u[1] for u in self.U]); self.same_art = titles[None, :] == np.array([q[4] for q in self.qs])[:, None]

    def dense(self, title):
        P = dense_passages([f"{u[1]}. {u[4]}" if title else u[4] for u in self.U])
        return dense_queries([q[0] for q in self.qs]) @ P.T

    def lexical(self, norm="stem", title_mode="col", wt=1.0, wb=1.0, bigrams=False):
        return lexical_matrix(self.U, [q[0] for q in self.qs], norm, title_mode, wt, wb, bigrams)


def abstention(S, D, L, method, n=40, **p):
    """Top fused score with the full collection vs with the gold article removed; threshold table."""
    F = fuse(D, L, method, n=n, **p)
    top = F.max(1); order = F.argmax(1); correct = S.ok[np.arange(len(top)), order]
    Fa = fuse(D, L, method, n=n, valid=~S.same_art, **p)
    top_abs = Fa.max(1)
    # also raw features for comparison
    rows = []
    pos, neg = top[correct], top_abs  # answerable (top-1 right) vs gold article absent
    from itertools import chain
    ys = np.r_[np.ones(len(pos)), np.zeros(len(neg))]; xs = np.r_[pos, neg]
    o = np.argsort(xs); ranks_ = np.empty(len(xs)); ranks_[o] = np.arange(1, len(xs) + 1)
    auc = (ranks_[ys == 1].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))
    for t in np.quantile(neg, [0.5, 0.7, 0.8, 0.9, 0.95]).tolist() + np.quantile(pos, [0.02, 0.05, 0.1, 0.2]).tolist():
        abst_neg = (neg < t).sum(); abst_pos = (pos < t).sum(); abst_all_present = (top < t).sum()
        rows.append(dict(t=round(t, 4), recall=round(abst_neg / len(neg), 3),
                         precision=round(abst_neg / max(abst_neg + abst_all_present, 1), 3),
                         false_abstain_on_answerable=round(abst_pos / len(pos), 3),
                         abstain_on_present=round(abst_all_present / len(top), 3)))
    return auc, sorted(rows, key=lambda r: r["t"])
