"""Conversations per chat, so a restart keeps them; also the sources of the last answer.

In SQLite in the data directory, or in PostgreSQL with NEWSBOT_DATABASE_URL, where every replica sees every chat's turns.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from bot.core.events import Source
from bot.core.prompting import Turn
from retrieval.stores.private import private_file

SCHEMA = """
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    sources TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_chat ON turns (chat_id, id);
CREATE TABLE IF NOT EXISTS chat_languages (
    chat_id INTEGER PRIMARY KEY,
    lang TEXT NOT NULL,
    at REAL NOT NULL
);
"""
PG_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS turns (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, chat_id BIGINT NOT NULL, "
    "question TEXT NOT NULL, answer TEXT NOT NULL, sources TEXT NOT NULL, at DOUBLE PRECISION NOT NULL)",
    "CREATE INDEX IF NOT EXISTS turns_chat ON turns (chat_id, id)",
    "CREATE TABLE IF NOT EXISTS chat_languages (chat_id BIGINT PRIMARY KEY, lang TEXT NOT NULL, at DOUBLE PRECISION NOT NULL)",
]


MEMORY_CHATS = 1000  # with keep=0, the chats whose last sources /sources can still show (in memory only)


class ConversationStore:
    """The last ``keep`` turns of each chat; tiny reads and writes, safe from any thread.

    With ``keep == 0`` nothing a user wrote is stored: no row is written, and only the last answer's sources
    (article titles and links, never the question or the answer) are kept in memory for /sources.
    """

    def __init__(self, path: Path, keep: int, database_url: str | None = None) -> None:
        self.keep = keep
        self._lock = threading.Lock()
        self._last_sources: OrderedDict[int, list[Source]] = OrderedDict()
        self._languages: OrderedDict[int, str] = OrderedDict()
        self._pg = None
        if database_url:
            from retrieval.stores.pg import Database

            self._pg = Database.with_tables(database_url, "turns", PG_SCHEMA, max_size=4)
            return
        private_file(path)  # users' messages: the service user's only
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    @contextmanager
    def _conn(self):
        """The connection for one call, under the store's lock: SQLite's own, or one lent by the PostgreSQL pool."""
        with self._lock:
            if self._pg is None:
                yield self._db
            else:
                with self._pg.session() as conn, conn.transaction():
                    yield conn

    def recent(self, chat_id: int) -> list[Turn]:
        """The chat's last turns, oldest first."""
        if self.keep == 0:
            return []
        with self._conn() as db:
            rows = db.execute(
                "SELECT question, answer FROM turns WHERE chat_id = ? ORDER BY id DESC LIMIT ?", (chat_id, self.keep)
            ).fetchall()
        return [Turn(q, a) for q, a in reversed(rows)]

    def add(self, chat_id: int, question: str, answer: str, sources: list[Source]) -> None:
        """Record a turn and forget the ones beyond ``keep`` (the last is always kept, for /sources)."""
        if self.keep == 0:
            with self._lock:
                self._last_sources[chat_id] = list(sources)
                self._last_sources.move_to_end(chat_id)
                while len(self._last_sources) > MEMORY_CHATS:
                    self._last_sources.popitem(last=False)
            return
        blob = json.dumps([asdict(s) for s in sources], ensure_ascii=False)
        with self._conn() as db:
            db.execute(
                "INSERT INTO turns (chat_id, question, answer, sources, at) VALUES (?, ?, ?, ?, ?)",
                (chat_id, question, answer, blob, time.time()),
            )
            db.execute(
                "DELETE FROM turns WHERE chat_id = ? AND id NOT IN (SELECT id FROM turns WHERE chat_id = ? ORDER BY id DESC LIMIT ?)",
                (chat_id, chat_id, max(self.keep, 1)),
            )

    def last_sources(self, chat_id: int) -> list[Source]:
        """The sources of the chat's last answer."""
        if self.keep == 0:
            with self._lock:
                return list(self._last_sources.get(chat_id, []))
        with self._conn() as db:
            row = db.execute("SELECT sources FROM turns WHERE chat_id = ? ORDER BY id DESC LIMIT 1", (chat_id,)).fetchone()
        return [Source(**d) for d in json.loads(row[0])] if row else []

    def set_language(self, chat_id: int, lang: str) -> None:
        """Remember the language of the chat's last question (only the code: 'fr' or 'en'), for the scheduled digest.

        With ``keep == 0`` it is held in memory only, like the last sources: no row is written.
        """
        if self.keep == 0:
            with self._lock:
                self._languages[chat_id] = lang
                self._languages.move_to_end(chat_id)
                while len(self._languages) > MEMORY_CHATS:
                    self._languages.popitem(last=False)
            return
        with self._conn() as db:
            db.execute(
                "INSERT INTO chat_languages (chat_id, lang, at) VALUES (?, ?, ?) "
                "ON CONFLICT (chat_id) DO UPDATE SET lang = excluded.lang, at = excluded.at",
                (chat_id, lang, time.time()),
            )

    def language(self, chat_id: int) -> str | None:
        """The language of the chat's last question, or None when nobody has asked there yet."""
        if self.keep == 0:
            with self._lock:
                return self._languages.get(chat_id)
        with self._conn() as db:
            row = db.execute("SELECT lang FROM chat_languages WHERE chat_id = ?", (chat_id,)).fetchone()
        return row[0] if row else None

    def reset(self, chat_id: int) -> int:
        """Forget the chat's conversation (and its language); returns the turns removed."""
        with self._conn() as db:
            self._last_sources.pop(chat_id, None)
            self._languages.pop(chat_id, None)
            db.execute("DELETE FROM chat_languages WHERE chat_id = ?", (chat_id,))
            return db.execute("DELETE FROM turns WHERE chat_id = ?", (chat_id,)).rowcount

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            (self._pg or self._db).close()
