"""One SQLite file with a connection per thread and numbered migrations (as simonw/llm does).

Gradio and the ingest job run handlers in thread pools; sqlite3 connections must not cross threads.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path


class SQLiteDB:
    def __init__(self, path: Path, migrations: list[str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        self._migrate(migrations)

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            self._local.conn = conn
        return conn

    def _migrate(self, migrations: list[str]) -> None:
        db = self.conn
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("CREATE TABLE IF NOT EXISTS _migrations (id INTEGER PRIMARY KEY, applied_at REAL)")
            done = {row[0] for row in db.execute("SELECT id FROM _migrations")}
            for number, sql in enumerate(migrations, start=1):
                if number not in done:
                    for statement in filter(str.strip, sql.split(";")):
                        db.execute(statement)
                    db.execute("INSERT INTO _migrations VALUES (?, ?)", (number, time.time()))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
