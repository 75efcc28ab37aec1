"""Two processes writing one catalog at once: is every row kept, and how long does a writer wait? (docs/deploy.md)

Run from the repository root: PYTHONPATH=. .venv/bin/python deploy/measure_catalog.py  (writes in a temporary folder).
"""
import multiprocessing as mp
import tempfile
import time
from pathlib import Path
from retrieval.stores.catalog import Catalog
from retrieval.chunking import Chunk
from retrieval.documents import Document

N_DOCS, CHUNKS_PER_DOC, BATCH_DOCS = 500, 4, 16
OUT = tempfile.mkdtemp(prefix="newsbot-catalog-")

def writer(path, tag, out):
    cat = Catalog(Path(path))
    waits = []
    t0 = time.perf_counter()
    docs = [Document(title=f"{tag} {i}", text=f"texte {tag} {i} " * 50, path=f"/{tag}/{i}.txt") for i in range(N_DOCS)]
    for b in range(0, N_DOCS, BATCH_DOCS):
        batch = docs[b:b + BATCH_DOCS]
        chunks = [Chunk(f"{d.doc_id}-{j}", d.doc_id, d.title, d.text[:200] + f" part {j}", j, 0, 200) for d in batch for j in range(CHUNKS_PER_DOC)]
        s = time.perf_counter()
        cat.add(batch, chunks)
        waits.append(time.perf_counter() - s)
    out.put((tag, time.perf_counter() - t0, max(waits), sorted(waits)[len(waits) // 2]))
    cat.close()

if __name__ == "__main__":
    for mode in ("alone", "together"):
        path = f"{OUT}/{mode}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)
        Catalog(Path(path)).close()
        q = mp.Queue()
        tags = ["a"] if mode == "alone" else ["a", "b"]
        t = time.perf_counter()
        ps = [mp.Process(target=writer, args=(path, tag, q)) for tag in tags]
        [p.start() for p in ps]; [p.join() for p in ps]
        wall = time.perf_counter() - t
        res = [q.get() for _ in tags]
        cat = Catalog(Path(path))
        docs, chunks = cat.counts()
        fts = cat._db.execute("SELECT COUNT(*) FROM fts").fetchone()[0]
        print(f"{mode}: wall {wall:.2f}s docs {docs} chunks {chunks} fts {fts} expected {len(tags)*N_DOCS*CHUNKS_PER_DOC}; "
              + "; ".join(f"{tag}: {tt:.2f}s, transaction max {mx*1000:.0f} ms median {md*1000:.0f} ms" for tag, tt, mx, md in res))
