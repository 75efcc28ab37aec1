"""Helpers for the multi-granularity / fusion-prior experiments (run_gran.py, run_prior.py, run_sparse3.py).

Dense score of a paragraph = a*cos(paragraph) + sum_g w_g * max cos(its units of granularity g).
Held-out protocol: questions split by md5(article title) parity; "tune" = even, "held" = odd.
"""
import hashlib
import numpy as np
from exp import Setup, fuse, log
from common import load, units, sentences, dense_passages, dense_queries

_S = None


def setup():
    global _S
    if _S is None:
        S = Setup()
        S.Q = dense_queries([q[0] for q in S.qs])
        S.D0 = S.Q @ dense_passages([f"{u[1]}. {u[4]}" for u in S.U]).T
        S.L = np.load("cache/L-repo-col-3-1.npy")  # exp.lexical("repo","col",3,1): same as the shipped FTS (verify_repo mv = 0.7914/0.8986)
        h = np.array([int(hashlib.md5(q[4].encode()).hexdigest(), 16) % 2 for q in S.qs])
        S.tune, S.held = h == 0, h == 1
        S.G = {}
        _S = S
    return _S


def sent_units(paras, min_chars=0):
    """One unit per sentence (sentences shorter than min_chars are merged into the next one)."""
    out = []
    for pid, title, text in paras:
        spans, cur = [], None
        for s, e in sentences(text):
            cur = (cur[0], e) if cur else (s, e)
            if cur[1] - cur[0] >= min_chars:
                spans.append(cur); cur = None
        if cur:
            spans = spans[:-1] + [(spans[-1][0], cur[1])] if spans else [cur]
        out += [(pid, title, s, e, text[s:e]) for s, e in spans]
    return out


def gran(name):
    """(Q, P) max cosine over a paragraph's units of granularity `name` ('400/100', 'sent', 'sent40', ...),
    plus the number of units. Units are embedded as 'passage: {title}. {text}'."""
    S = setup()
    if name in S.G:
        return S.G[name]
    if name.startswith("sent"):
        U = sent_units(S.paras, int(name[4:] or 0))
    else:
        size, ov = map(int, name.split("/"))
        U = units(S.paras, size, ov)
    P = dense_passages([f"{u[1]}. {u[4]}" for u in U])
    C = S.Q @ P.T
    pid = np.array([u[0] for u in U])
    assert (np.diff(pid) >= 0).all() and len(set(pid.tolist())) == len(S.paras)  # units come in paragraph order
    M = np.maximum.reduceat(C, np.r_[0, np.flatnonzero(np.diff(pid)) + 1], axis=1)
    S.G[name] = (M, len(U))
    return S.G[name]


def first_hit(F):
    """1-based rank of the first acceptable unit per question (10**9 if none in the top 100); as exp.metrics."""
    S = setup()
    order = np.argsort(-F, axis=1)[:, :100]
    ok = np.take_along_axis(S.ok, order, 1) & np.isfinite(np.take_along_axis(F, order, 1))
    return np.where(ok.any(1), ok.argmax(1) + 1, 10**9)


def summarize(first):
    r = {f"hit@{k}": float((first <= k).mean()) for k in (1, 3, 5, 10)}
    r["mrr"] = float(np.where(first < 10**9, 1.0 / first, 0).mean())
    return r


def all_splits(F):
    S = setup(); f = first_hit(F)
    return {"full": summarize(f), "tune": summarize(f[S.tune]), "held": summarize(f[S.held])}


def fused(D, a=0.8, c=50, n=40):
    return fuse(D, setup().L, "absi", n=n, a=a, c=c)


def log_all(name, F, **extra):
    r = all_splits(F)
    log(name, r["full"], tune={k: round(v, 4) for k, v in r["tune"].items()},
        held={k: round(v, 4) for k, v in r["held"].items()}, **extra)
    return r


def dense_from_spec(S, M4, spec):
    """The paragraph dense score a script is run with: 'base' (0.3*para + 0.7*max400) or 'a,b,c,g' = a*para + b*max400 + c*max(g)."""
    if spec == "base":
        return 0.3 * S.D0 + 0.7 * M4
    a, b, c, g = spec.split(",")
    return float(a) * S.D0 + float(b) * M4 + float(c) * gran(g)[0]
