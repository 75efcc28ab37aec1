"""One story, told once: near-duplicate documents (syndicated copies, updates in place) share a story group.

Word 4-gram shingles summarised by a 64-value MinHash signature; 16 bands of 4 values find candidates in the catalog, and a
candidate joins the group when the signatures agree on at least JOIN_AT of their values (the estimated Jaccard).
The threshold was chosen on the dated corpus (docs/retrieval.md).
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from retrieval.dates.words import fold

SHINGLE = 4
PERMUTATIONS = 64
BANDS = 16
JOIN_AT = 0.5  # estimated Jaccard: copies and updates measured 0.67-0.95 on the dated corpus, distinct stories at most 0.03
# Fixed seeds: signatures must be the same in every process and every run.
_MASKS = np.random.default_rng(20250609).integers(0, np.iinfo(np.uint64).max, PERMUTATIONS, dtype=np.uint64, endpoint=True)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection of 64-bit integers that scatters every input bit (uint64 products wrap)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def shingles(title: str, text: str) -> set[bytes]:
    """Word 4-grams of the folded title and text (a short text gives its words instead)."""
    words = re.findall(r"\w+", fold(f"{title} {text}"))
    if len(words) < SHINGLE:
        return {w.encode() for w in words}
    return {" ".join(words[i : i + SHINGLE]).encode() for i in range(len(words) - SHINGLE + 1)}


def signature(items: set[bytes]) -> np.ndarray:
    """The MinHash signature (PERMUTATIONS uint64 values) of a set of shingles."""
    if not items:
        return np.full(PERMUTATIONS, np.iinfo(np.uint64).max, dtype=np.uint64)
    hashes = np.array([int.from_bytes(hashlib.blake2b(s, digest_size=8).digest(), "little") for s in items], dtype=np.uint64)
    # One independent hash per permutation: mask, then mix (a*h+b mod p needs 128-bit products for 64-bit hashes).
    return _mix(hashes[:, None] ^ _MASKS[None, :]).min(axis=0)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The estimated Jaccard similarity of two signatures."""
    return float(np.mean(a == b))


def _band_keys(sig: np.ndarray) -> list[tuple[int, int]]:
    """(band, key) pairs: each band's values hashed to one signed 63-bit integer, SQLite's INTEGER."""
    rows = PERMUTATIONS // BANDS
    return [(b, int.from_bytes(hashlib.blake2b(sig[b * rows : (b + 1) * rows].tobytes(), digest_size=8).digest(), "little") >> 1)
            for b in range(BANDS)]


def assign_story(db, doc_id: str, title: str, text: str) -> str:
    """Put a document in the story of its nearest earlier near-duplicate, or in a story of its own; the story id.

    ``db`` is the catalog's connection, SQLite's or retrieval.stores.pg's (both take ``?`` placeholders).
    """
    row = db.execute("SELECT story FROM stories WHERE doc_id=?", (doc_id,)).fetchone()
    if row:
        return row[0]
    sig = signature(shingles(title, text))
    keys = _band_keys(sig)
    candidates = {
        r[0] for band, key in keys for r in db.execute("SELECT doc_id FROM story_bands WHERE band=? AND key=?", (band, key))
    } - {doc_id}
    best, best_sim = None, JOIN_AT
    for other in sorted(candidates):
        found = db.execute("SELECT story, signature FROM stories WHERE doc_id=?", (other,)).fetchone()
        if found:
            sim = similarity(sig, np.frombuffer(found[1], dtype=np.uint64))
            if sim >= best_sim:
                best, best_sim = found[0], sim
    story = best or doc_id
    db.execute("INSERT INTO stories VALUES (?,?,?) ON CONFLICT DO NOTHING", (doc_id, story, sig.tobytes()))
    db.executemany("INSERT INTO story_bands VALUES (?,?,?) ON CONFLICT DO NOTHING", [(b, k, doc_id) for b, k in keys])
    return story
