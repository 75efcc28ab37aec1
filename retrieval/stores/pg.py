"""PostgreSQL through psycopg 3: a connection pool, one borrowed connection per thread and call, errors in one line.

SQL shared with the SQLite stores is written with ``?`` placeholders; :class:`Conn` turns them into psycopg's ``%s``.
Connections are in autocommit; a write is one ``conn.transaction()``. A connection the server dropped (restart, failover,
``pg_terminate_backend``) fails the call in progress with :class:`~retrieval.errors.DatabaseError` and is replaced by the
pool, so the next call works again once the server is back.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator, Sequence

from retrieval.errors import DatabaseError, one_line

CONNECT_TIMEOUT_S = 5
POOL_MAX = 8


@lru_cache(maxsize=1024)
def pg_sql(sql: str) -> str:
    """SQLite-style ``?`` placeholders as psycopg's ``%s`` (a literal % doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


def is_postgres(url: str | None) -> bool:
    """Whether a database URL names PostgreSQL."""
    return bool(url) and url.split("://", 1)[0] in ("postgresql", "postgres")


def describe(exc: BaseException) -> DatabaseError:
    """A psycopg or pool error as a one-line DatabaseError that names no host, user or password."""
    import psycopg
    import psycopg_pool

    if isinstance(exc, (psycopg_pool.PoolTimeout, psycopg.OperationalError)):
        text = one_line(exc).lower()
        if "password" in text or "authentication" in text:
            why = "it refused the user or password"
        elif "does not exist" in text:
            why = "the database does not exist"
        elif isinstance(exc, psycopg_pool.PoolTimeout) or "refused" in text or "timeout" in text or "connect" in text:
            why = "it cannot be reached"
        else:
            why = "the connection was lost"
        return DatabaseError(f"the PostgreSQL database is unavailable ({why}); nothing was changed, try again when it is back",
                             remedy="database")
    sqlstate = getattr(exc, "sqlstate", None) or ""
    if sqlstate.startswith("57P") or sqlstate.startswith("08"):  # admin shutdown, crash, connection exceptions
        return DatabaseError("the PostgreSQL database is unavailable (the connection was lost); nothing was changed, try again",
                             remedy="database")
    if sqlstate == "53100":
        return DatabaseError("the PostgreSQL server's disk is full; free some space and run the command again")
    return DatabaseError(f"the PostgreSQL database refused an operation ({type(exc).__name__}, SQLSTATE {sqlstate or '?'})")


class Conn:
    """One psycopg connection with the SQLite-style calls the shared SQL uses: execute, executemany, transaction."""

    def __init__(self, conn) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence = ()):
        """Run one statement; the cursor, with fetchone/fetchall/rowcount and iteration."""
        return self.conn.execute(pg_sql(sql), tuple(params))

    def executemany(self, sql: str, rows) -> None:
        """Run one statement for each row of parameters."""
        with self.conn.cursor() as cur:
            cur.executemany(pg_sql(sql), list(rows))

    def transaction(self):
        """A transaction: committed when the block ends, rolled back on error."""
        return self.conn.transaction()


class Database:
    """A pool of connections to one PostgreSQL database; ``session()`` lends one to the calling thread (re-entrant)."""

    def __init__(self, url: str, *, max_size: int = POOL_MAX, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        try:
            import psycopg_pool
        except ImportError as exc:  # pragma: no cover - the dependency is declared; this is a broken install
            raise DatabaseError("NEWSBOT_DATABASE_URL needs psycopg: pip install 'psycopg[binary]' psycopg_pool") from exc
        self._local = threading.local()
        self._pool = psycopg_pool.ConnectionPool(
            url, min_size=1, max_size=max_size, timeout=timeout_s, open=False, name="newsbot",
            # JIT compiling costs more than the short queries here run (30 ms of 150 on a BM25 planned on stale
            # statistics after a bulk ingest, docs/benchmarks.md): off for newsbot's connections.
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S, "application_name": "newsbot", "options": "-c jit=off"},
            check=psycopg_pool.ConnectionPool.check_connection, reconnect_timeout=0,
        )
        try:
            self._pool.open(wait=True, timeout=timeout_s)
        except Exception as exc:
            self._pool.close(timeout=0)
            raise describe(exc) from None

    @classmethod
    def with_tables(cls, url: str, name: str, statements: Sequence[str], *, max_size: int = POOL_MAX) -> "Database":
        """A pool with the ``CREATE … IF NOT EXISTS`` statements run first, under an advisory lock named after the
        tables, so replicas starting together do not race on the catalog tables of PostgreSQL."""
        db = cls(url, max_size=max_size)
        with db.session() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (f"newsbot.{name}",))
            for statement in statements:
                conn.execute(statement)
        return db

    @contextmanager
    def session(self) -> Iterator[Conn]:
        """This thread's connection for the block (the same one when blocks nest); errors become DatabaseError."""
        held = getattr(self._local, "conn", None)
        if held is not None:
            yield held
            return
        import psycopg
        import psycopg_pool

        try:
            with self._pool.connection() as raw:
                self._local.conn = Conn(raw)
                try:
                    yield self._local.conn
                finally:
                    self._local.conn = None
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            raise describe(exc) from exc

    @property
    def conn(self) -> Conn:
        """The connection lent to this thread by the enclosing ``session()``."""
        held = getattr(self._local, "conn", None)
        if held is None:
            raise RuntimeError("no database session is open in this thread")
        return held

    def close(self) -> None:
        """Close every connection of the pool."""
        self._pool.close()
