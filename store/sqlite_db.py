"""One SQLite file with a connection per thread and numbered migrations (as simonw/llm does); used by
the catalog, the accounts and the feedback store.

Gradio and the ingest job run handlers in thread pools; sqlite3 connections must not cross threads.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


class SQLiteDB:
    def __init__(self, path: Path, migrations: Sequence[str], pragmas: Sequence[str] = ()) -> None:
        """`migrations`: SQL scripts numbered from 1 (statements split on ";"), each applied once;
        `pragmas`: set on every connection after journal_mode=WAL (e.g. "synchronous=NORMAL")."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._pragmas = tuple(pragmas)
        self._local = threading.local()
        self._migrate(migrations)

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            for pragma in self._pragmas:
                conn.execute(f"PRAGMA {pragma}")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT on this thread's connection; ROLLBACK on any error."""
        db = self.conn
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _migrate(self, migrations: Sequence[str]) -> None:
        with self.transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS _migrations (id INTEGER PRIMARY KEY, applied_at REAL)")
            done = {row[0] for row in db.execute("SELECT id FROM _migrations")}
            for number, sql in enumerate(migrations, start=1):
                if number not in done:
                    for statement in filter(str.strip, sql.split(";")):
                        db.execute(statement)
                    db.execute("INSERT INTO _migrations VALUES (?, ?)", (number, time.time()))
