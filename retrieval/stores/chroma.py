"""The dense vector store behind the VectorStore Protocol (retrieval.ports): Chroma (embedded PersistentClient or a server through HttpClient)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Sequence
from urllib.parse import urlsplit

import numpy as np

from retrieval.errors import IndexDamaged, disk_problem, one_line

COLLECTION = "newsbot"


class ChromaStore:
    """Chroma collection in cosine space; the embedder's name and dimension are stored in its metadata."""

    def __init__(self, client, embedder_name: str, dim: int, url: str | None = None, path: Path | None = None) -> None:
        self._client = client
        self.url = url
        self.path = path  # the embedded store's folder, named in errors
        try:
            self._col = client.get_or_create_collection(
                COLLECTION,
                metadata={"embedder": embedder_name, "dim": dim},
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        except Exception as exc:  # chromadb raises many types for a damaged store
            if url:
                raise _server_error(url, exc) from exc
            raise _local_error(path, exc) from exc
        meta = self._col.metadata or {}
        if meta.get("embedder") != embedder_name or meta.get("dim") != dim:
            raise IndexDamaged(
                f"the index was built with embedder {meta.get('embedder')!r} (dim {meta.get('dim')}), "
                f"not {embedder_name!r} (dim {dim})", remedy="rebuild",
            )

    @classmethod
    def persistent(cls, path: Path, embedder_name: str, dim: int) -> "ChromaStore":
        """An embedded store in ``path`` (one writing process only)."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        try:
            client = chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
        except Exception as exc:
            raise _local_error(path, exc) from exc
        return cls(client, embedder_name, dim, path=path)

    @classmethod
    def http(
        cls, url: str, headers: dict[str, str] | None, embedder_name: str, dim: int, timeout_s: float = 10.0
    ) -> "ChromaStore":
        """A store on a Chroma server, shared by any number of processes; the server must speak this client's API."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        parts = urlsplit(url)
        if parts.path.strip("/"):
            raise IndexDamaged(f"the Chroma URL {url}: a path after the port is not supported; use http://HOST:PORT")
        check_server(url, headers or {}, timeout_s)
        ssl = parts.scheme == "https"
        try:
            client = chromadb.HttpClient(
                host=parts.hostname,
                port=parts.port or (443 if ssl else 80),
                ssl=ssl,
                headers=headers or None,
                settings=ChromaSettings(anonymized_telemetry=False),
            )
        except Exception as exc:
            raise _server_error(url, exc) from exc
        try:
            return cls(client, embedder_name, dim, url=url)
        except BaseException:
            _close_client(client)
            raise

    def close(self) -> None:
        """Release the client; on a server, also its connections once no other client in this process shares them."""
        _close_client(self._client)

    @contextlib.contextmanager
    def _guard(self):
        """Turn a Chroma failure into a one-line IndexDamaged naming the server, or the damaged, read-only or full store."""
        try:
            yield
        except IndexDamaged:
            raise
        except Exception as exc:
            if self.url is None:
                raise _local_error(self.path, exc) from exc
            raise _server_error(self.url, exc) from exc

    def upsert(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add or replace vectors in one call."""
        if len(ids):
            with self._guard():
                self._col.upsert(ids=list(ids), embeddings=np.asarray(vectors, dtype=np.float32))

    def delete(self, ids: Sequence[str]) -> None:
        """Remove vectors by id."""
        if len(ids):
            with self._guard():
                self._col.delete(ids=list(ids))

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Nearest ids; Chroma's cosine distance is turned back into a similarity.

        Chroma 1.x returns fewer results when the collection holds fewer than ``k`` (none when it is empty),
        so no count() first: at 100,000 vectors that count cost 4 ms, twice the query itself.
        """
        with self._guard():
            res = self._col.query(query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=k, include=["distances"])
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0])]

    def ids(self) -> set[str]:
        """Every id, fetched in pages."""
        out: set[str] = set()
        offset, page = 0, 5000
        while True:
            with self._guard():
                got = self._col.get(include=[], limit=page, offset=offset)["ids"]
            out.update(got)
            if len(got) < page:
                return out
            offset += page

    def count(self) -> int:
        """Number of vectors."""
        with self._guard():
            return self._col.count()


def check_server(url: str, headers: dict[str, str], timeout_s: float = 10.0) -> str:
    """The Chroma server's API version, or a one-line IndexDamaged when it is unreachable, refuses us or speaks another API."""
    import chromadb
    import httpx

    client_version = chromadb.__version__
    try:
        resp = httpx.get(f"{url}/api/v2/version", headers=headers, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise _server_error(url, exc) from exc
    if resp.status_code in (401, 403):
        raise IndexDamaged(f"the Chroma server at {url} refused newsbot (HTTP {resp.status_code})", remedy="auth")
    mismatch = (
        f"the Chroma server at {url} is not compatible with newsbot's chromadb {client_version}; "
        f"run the server from the same chromadb version (`chroma run` from newsbot's environment)"
    )
    if resp.status_code == 404:
        raise IndexDamaged(f"{mismatch} (it has no /api/v2: an older server)")
    if resp.status_code != 200:
        raise IndexDamaged(f"the Chroma server at {url} answered HTTP {resp.status_code} to a version check")
    try:
        server_version = str(resp.json())
    except ValueError:
        raise IndexDamaged(f"{url} answered the version check with something other than Chroma's JSON; is it a Chroma server?") from None
    # The Rust server of chromadb 1.x reports its API version (1.0.0), not the package's: the major numbers must agree.
    if server_version.split(".")[0] != client_version.split(".")[0]:
        raise IndexDamaged(f"{mismatch} (server API {server_version})")
    return server_version


def _close_client(client) -> None:
    """Close a chromadb client and, for a server, its HTTP sessions (chromadb's close() leaves them open)."""
    sessions = [
        getattr(getattr(c, "_server", None), "_session", None) for c in (client, getattr(client, "_admin_client", None))
    ]
    with contextlib.suppress(Exception):  # closing must not fail a shutdown
        client.close()
    for session in sessions:
        if session is not None:  # each HttpClient has sessions of its own (PersistentClient has none)
            session.close()


def _server_error(url: str, exc: BaseException) -> IndexDamaged:
    """A one-line IndexDamaged for a failed call to the Chroma server at ``url``."""
    import httpx

    if isinstance(exc, httpx.TransportError) or "could not connect" in str(exc).lower():
        return IndexDamaged(
            f"cannot reach the Chroma server at {url} ({one_line(exc)}); is `chroma run` running there?"
        )
    return IndexDamaged(f"the Chroma server at {url} failed ({one_line(exc)})")


def _local_error(path: Path | None, exc: BaseException) -> IndexDamaged:
    """A one-line IndexDamaged for the embedded store in ``path``: disk full, read-only, or damaged (rebuild it)."""
    where = f"the Chroma index {path}" if path else "the Chroma index"
    text = str(exc).lower()
    problem = disk_problem(exc)
    if problem == "full":
        return IndexDamaged(f"{where}: the disk is full; free some space and run the command again")
    if problem == "read-only":
        return IndexDamaged(f"{where} is read-only; make it writable by this user", remedy="writable")
    if path and "database" in text:
        where = f"the Chroma index {path / 'chroma.sqlite3'}"
    return IndexDamaged(f"{where} is damaged ({one_line(exc)})", remedy="rebuild")
