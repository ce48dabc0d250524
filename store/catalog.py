"""The SQLite catalog beside the vector store: collections, the ingest manifest (files), chunk
texts with their BM25 tokens, and ingest runs. Explicit numbered migrations, as in simonw/llm.

A file's row is written only after its chunks are in the vector store, in one transaction with
its chunk rows, so the catalog never claims what the store does not hold.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from kreiswissen.schema import Chunk

from . import bm25_index
from .sqlite_db import SQLiteDB

MIGRATIONS: list[str] = [
    # 1: collections, files (the manifest), chunks
    """
    CREATE TABLE collections (
        name TEXT PRIMARY KEY,
        folders TEXT NOT NULL DEFAULT '[]',
        embedding TEXT NOT NULL,
        created_at REAL NOT NULL,
        indexed_at REAL
    );
    CREATE TABLE files (
        collection TEXT NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime REAL NOT NULL,
        title TEXT NOT NULL,
        chunks INTEGER NOT NULL,
        indexed_at REAL NOT NULL,
        PRIMARY KEY (collection, path)
    );
    CREATE TABLE chunks (
        collection TEXT NOT NULL,
        id TEXT NOT NULL,
        path TEXT NOT NULL,
        position INTEGER NOT NULL,
        doc_id TEXT NOT NULL,
        title TEXT NOT NULL,
        section TEXT NOT NULL,
        page INTEGER,
        page_end INTEGER,
        text TEXT NOT NULL,
        tokens TEXT NOT NULL,
        PRIMARY KEY (collection, id)
    );
    CREATE INDEX chunks_by_path ON chunks (collection, path);
    """,
    # 2: ingest runs with their summaries
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        collection TEXT NOT NULL,
        started_at REAL NOT NULL,
        finished_at REAL,
        status TEXT NOT NULL,
        summary TEXT NOT NULL DEFAULT '{}'
    );
    """,
    # 3: which loader/chunker version and settings produced a collection's chunks
    """
    ALTER TABLE collections ADD COLUMN pipeline TEXT NOT NULL DEFAULT '';
    """,
    # 4: sentence units of each chunk with their vectors (float16), for sentence-level evidence
    """
    CREATE TABLE sentences (
        collection TEXT NOT NULL,
        chunk_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        text TEXT NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (collection, chunk_id, idx)
    );
    CREATE INDEX sentences_by_chunk ON sentences (chunk_id);
    """,
    # 5: who may read a collection (JSON list of groups, "*" = everyone; existing collections stay
    # open as before), and its generation: a full rebuild fills generation n+1 beside n and then
    # switches to it (rows of files/chunks/sentences are keyed by `generation_key`)
    """
    ALTER TABLE collections ADD COLUMN groups TEXT NOT NULL DEFAULT '["*"]';
    ALTER TABLE collections ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
    """,
    # 6: the persisted BM25 index (SQLite FTS5, see store/bm25_index.py); filled by its first `ensure`
    bm25_index.MIGRATION,
    # 7: where each page of a chunk spanning pages begins (JSON [[offset, page], ...]); chunks written
    # before cite their first page, as they did
    """
    ALTER TABLE chunks ADD COLUMN page_starts TEXT NOT NULL DEFAULT '[]';
    """,
]

GENERATION_SEP = "\x1f"  # not printable: never part of a collection name (see admin_tab)


def generation_key(name: str, generation: int) -> str:
    """The key under which a generation of a collection is stored (catalog rows, Chroma collection);
    generation 0 is the plain name, as before generations existed."""
    return name if generation == 0 else f"{name}{GENERATION_SEP}{generation}"


def collection_of(key: str) -> str:
    return key.split(GENERATION_SEP, 1)[0]


@dataclass
class FileRecord:
    path: str
    sha256: str
    size: int
    mtime: float
    title: str
    chunks: int
    indexed_at: float


class Catalog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._sqlite = SQLiteDB(path, MIGRATIONS, pragmas=("synchronous=NORMAL",))
        bm25_index.ensure(self.db)

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection (Gradio serves requests from a thread pool); for store/ and tests."""
        return self._sqlite.conn

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._sqlite.transaction()

    # collections -------------------------------------------------------------------------
    def ensure_collection(
        self,
        name: str,
        embedding: str,
        folders: Iterable[str] = (),
        groups: Iterable[str] = ("*",),
        check_embedding: bool = True,
    ) -> None:
        """Create a collection (readable by `groups`) or add folders to it. A full rebuild passes
        check_embedding=False: it replaces the vectors, and switches the embedding with them."""
        with self.transaction() as db:
            row = db.execute("SELECT embedding, folders FROM collections WHERE name=?", (name,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO collections (name, folders, embedding, created_at, groups) VALUES (?,?,?,?,?)",
                    (
                        name,
                        json.dumps(sorted(set(folders))),
                        embedding,
                        time.time(),
                        json.dumps(sorted(set(groups))),
                    ),
                )
                return
            if check_embedding and row["embedding"] != embedding:
                raise EmbeddingMismatch(name, row["embedding"], embedding)
            merged = sorted(set(json.loads(row["folders"])) | set(folders))
            db.execute("UPDATE collections SET folders=? WHERE name=?", (json.dumps(merged), name))

    def collections(self) -> list[dict]:
        rows = self.db.execute(
            """SELECT c.name, c.folders, c.embedding, c.indexed_at, c.groups, c.generation, c.key,
                      (SELECT COUNT(*) FROM files f WHERE f.collection=c.key) AS documents,
                      (SELECT COUNT(*) FROM chunks k WHERE k.collection=c.key) AS chunks
               FROM (SELECT *, CASE WHEN generation=0 THEN name ELSE name || char(31) || generation END AS key
                     FROM collections) c
               ORDER BY c.name"""
        ).fetchall()
        return [
            dict(r) | {"folders": json.loads(r["folders"]), "groups": json.loads(r["groups"])} for r in rows
        ]

    def collection(self, name: str) -> dict | None:
        """One collection as `collections` lists it (folders, groups, counts); None if there is none."""
        return next((c for c in self.collections() if c["name"] == name), None)

    def set_groups(self, name: str, groups: Iterable[str]) -> bool:
        """Set who may read a collection; False when there is no such collection."""
        cur = self.db.execute(
            "UPDATE collections SET groups=? WHERE name=?", (json.dumps(sorted(set(groups))), name)
        )
        return cur.rowcount > 0

    # generations ---------------------------------------------------------------------------
    def generation(self, name: str) -> int:
        row = self.db.execute("SELECT generation FROM collections WHERE name=?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def current_key(self, name: str) -> str:
        """Where readers find the collection now."""
        return generation_key(name, self.generation(name))

    def switch_generation(
        self, name: str, key: str, embedding: str, pipeline: str, folders: Iterable[str]
    ) -> None:
        """Make a completely built generation the one readers see (one statement: atomic)."""
        generation = int(key.rsplit(GENERATION_SEP, 1)[1]) if GENERATION_SEP in key else 0
        self.db.execute(
            "UPDATE collections SET generation=?, embedding=?, pipeline=?, indexed_at=?, folders=? "
            "WHERE name=?",
            (generation, embedding, pipeline, time.time(), json.dumps(sorted(set(folders))), name),
        )

    def drop_rows(self, key: str) -> None:
        """Remove the catalog rows of one generation (files, chunks, sentences)."""
        with self.transaction() as db:
            for table in ("sentences", "chunks", "files"):
                db.execute(f"DELETE FROM {table} WHERE collection=?", (key,))

    def collection_embedding(self, name: str) -> str | None:
        row = self.db.execute("SELECT embedding FROM collections WHERE name=?", (name,)).fetchone()
        return row[0] if row else None

    def drop_collection(self, name: str) -> None:
        """Remove a collection with the rows of all its generations."""
        with self.transaction() as db:
            for table in ("sentences", "chunks", "files"):
                db.execute(
                    f"DELETE FROM {table} WHERE collection=? OR substr(collection, 1, ?)=?",
                    (name, len(name) + 1, name + GENERATION_SEP),
                )
            db.execute("DELETE FROM collections WHERE name=?", (name,))

    # These take a collection name or a generation key.
    def mark_indexed(self, name: str, pipeline: str) -> None:
        self.db.execute(
            "UPDATE collections SET indexed_at=?, pipeline=? WHERE name=?",
            (time.time(), pipeline, collection_of(name)),
        )

    def set_pipeline(self, name: str, pipeline: str) -> None:
        self.db.execute("UPDATE collections SET pipeline=? WHERE name=?", (pipeline, collection_of(name)))

    def pipeline(self, name: str) -> str:
        row = self.db.execute(
            "SELECT pipeline FROM collections WHERE name=?", (collection_of(name),)
        ).fetchone()
        return row[0] if row else ""

    # files (the manifest) ----------------------------------------------------------------
    def files(self, collection: str) -> dict[str, FileRecord]:
        rows = self.db.execute(
            "SELECT path, sha256, size, mtime, title, chunks, indexed_at FROM files WHERE collection=?",
            (collection,),
        ).fetchall()
        return {r["path"]: FileRecord(**dict(r)) for r in rows}

    def touch_file(self, collection: str, path: str, mtime: float) -> None:
        """A file touched but not changed: refresh its manifest row, keep its chunks."""
        self.db.execute("UPDATE files SET mtime=? WHERE collection=? AND path=?", (mtime, collection, path))

    def file_sha256_of_chunk(self, chunk_id: str) -> str | None:
        """The content hash of the file a chunk comes from (any collection holding the chunk)."""
        row = self.db.execute(
            "SELECT f.sha256 FROM chunks c JOIN files f ON f.collection = c.collection AND f.path = c.path "
            "WHERE c.id = ? LIMIT 1",
            (chunk_id,),
        ).fetchone()
        return row["sha256"] if row else None

    def chunk_ids(self, collection: str, path: str | None = None) -> list[str]:
        if path is None:
            rows = self.db.execute("SELECT id FROM chunks WHERE collection=?", (collection,))
        else:
            rows = self.db.execute("SELECT id FROM chunks WHERE collection=? AND path=?", (collection, path))
        return [r[0] for r in rows]

    def replace_file(
        self,
        collection: str,
        record: FileRecord,
        chunks: list[Chunk],
        tokens: list[str],
        sentences: list[list[tuple[str, bytes]]] | None = None,
    ) -> list[str]:
        """Write a file's manifest row, chunk rows and their sentence units (text, float16 vector);
        return the chunk ids it no longer has."""
        parts = bm25_index.parts_of(chunks)  # analysed before the write lock is taken
        with self.transaction() as db:
            old = {
                r[0]
                for r in db.execute(
                    "SELECT id FROM chunks WHERE collection=? AND path=?", (collection, record.path)
                )
            }
            _delete_sentences(db, collection, sorted(old))
            db.execute("DELETE FROM chunks WHERE collection=? AND path=?", (collection, record.path))
            if sentences is not None:
                db.executemany(
                    "INSERT OR REPLACE INTO sentences VALUES (?,?,?,?,?)",
                    [
                        (collection, c.id, i, text, vector)
                        for c, units in zip(chunks, sentences, strict=True)
                        for i, (text, vector) in enumerate(units)
                    ],
                )
            db.executemany(
                "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        collection,
                        c.id,
                        record.path,
                        c.position,
                        c.doc_id,
                        c.title,
                        c.section,
                        c.page,
                        c.page_end,
                        c.text,
                        t,
                        json.dumps(c.page_starts),
                    )
                    for c, t in zip(chunks, tokens, strict=True)
                ],
            )
            bm25_index.add(db, collection, [c.id for c in chunks], tokens, parts)
            db.execute(
                "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?)",
                (
                    collection,
                    record.path,
                    record.sha256,
                    record.size,
                    record.mtime,
                    record.title,
                    record.chunks,
                    record.indexed_at,
                ),
            )
        return sorted(old - {c.id for c in chunks})

    def remove_file(self, collection: str, path: str) -> list[str]:
        with self.transaction() as db:
            ids = [
                r[0]
                for r in db.execute("SELECT id FROM chunks WHERE collection=? AND path=?", (collection, path))
            ]
            _delete_sentences(db, collection, ids)
            db.execute("DELETE FROM chunks WHERE collection=? AND path=?", (collection, path))
            db.execute("DELETE FROM files WHERE collection=? AND path=?", (collection, path))
        return ids

    # chunks ------------------------------------------------------------------------------
    def chunks(self, collection: str, ids: Iterable[str] | None = None) -> list[Chunk]:
        if ids is None:
            rows = self.db.execute(
                "SELECT * FROM chunks WHERE collection=? ORDER BY path, position", (collection,)
            ).fetchall()
        else:
            wanted = list(ids)
            rows = []
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                rows += self.db.execute(
                    f"SELECT * FROM chunks WHERE collection=? AND id IN ({','.join('?' * len(part))})",
                    (collection, *part),
                ).fetchall()
        return [_row_to_chunk(r) for r in rows]

    def chunk_locations(self, chunk_id: str) -> list[tuple[str, str]]:
        """(collection key, file path) of every stored copy of a chunk."""
        rows = self.db.execute("SELECT collection, path FROM chunks WHERE id=?", (chunk_id,))
        return [(r["collection"], r["path"]) for r in rows]

    def section_chunks(self, collection: str, heading: str) -> list[dict[str, str]]:
        """id, doc_id, title and section of the chunks whose section path contains `heading`, in
        document order (the candidates for a legal reference such as "§ 6")."""
        rows = self.db.execute(
            "SELECT id, doc_id, title, section FROM chunks WHERE collection=? AND section LIKE ? "
            "ORDER BY path, position",
            (collection, f"%{heading}%"),
        )
        return [dict(r) for r in rows]

    def known_ids(self, collection: str, ids: Sequence[str]) -> set[str]:
        """The chunk ids among `ids` that the catalog holds."""
        return bm25_index.known(self.db, collection, ids)

    def bm25_engine(self, collection: str) -> bm25_index.SparseBM25:
        """The process-wide BM25 engine of a collection, brought in step with the catalog."""
        return bm25_index.engine(self.db, str(self.path), collection)

    def bm25_digest(self) -> str:
        """A hash of the stored FTS5 index: unchanged when a run rewrote nothing."""
        return bm25_index.digest(self.db)

    def sentences(self, chunk_ids: Iterable[str]) -> dict[str, list[tuple[str, bytes]]]:
        """Sentence units (text, float16 vector bytes) of the given chunks, in chunk order. Chunk ids
        hash path and content, so they identify the same text in any collection."""
        wanted = list(dict.fromkeys(chunk_ids))
        out: dict[str, list[tuple[str, bytes]]] = {cid: [] for cid in wanted}
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            rows = self.db.execute(
                "SELECT chunk_id, idx, text, vector FROM sentences WHERE chunk_id IN "
                f"({','.join('?' * len(part))}) ORDER BY chunk_id, idx",
                part,
            )
            for chunk_id, idx, text, vector in rows:
                if idx == len(out[chunk_id]):  # the same chunk in two collections: take one copy
                    out[chunk_id].append((text, vector))
        return out

    def sentence_count(self, collection: str) -> int:
        row = self.db.execute("SELECT COUNT(*) FROM sentences WHERE collection=?", (collection,)).fetchone()
        return int(row[0])

    def tokens(self, collection: str) -> list[tuple[str, str]]:
        return [
            (r[0], r[1])
            for r in self.db.execute(
                "SELECT id, tokens FROM chunks WHERE collection=? ORDER BY path, position", (collection,)
            )
        ]

    def version(self, collection: str) -> tuple:
        """Changes whenever the collection's chunks change: lets readers cache derived indexes."""
        row = self.db.execute(
            "SELECT COUNT(*), MAX(indexed_at), SUM(chunks) FROM files WHERE collection=?", (collection,)
        ).fetchone()
        return tuple(row)

    # runs --------------------------------------------------------------------------------
    def start_run(self, collection: str) -> int:
        cur = self.db.execute(
            "INSERT INTO runs (collection, started_at, status) VALUES (?,?,?)",
            (collection, time.time(), "running"),
        )
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, summary: dict) -> None:
        self.db.execute(
            "UPDATE runs SET finished_at=?, status=?, summary=? WHERE id=?",
            (time.time(), status, json.dumps(summary, ensure_ascii=False), run_id),
        )

    def last_run(self, collection: str | None = None) -> dict | None:
        sql = (
            "SELECT * FROM runs" + (" WHERE collection=?" if collection else "") + " ORDER BY id DESC LIMIT 1"
        )
        row = self.db.execute(sql, (collection,) if collection else ()).fetchone()
        return dict(row) | {"summary": json.loads(row["summary"])} if row else None


class EmbeddingMismatch(RuntimeError):
    def __init__(self, collection: str, stored: str, current: str) -> None:
        super().__init__(
            f"Die Sammlung „{collection}“ wurde mit dem Embedding-Modell {stored} indexiert, "
            f"eingestellt ist {current}. Bitte mit `kreiswissen ingest --full` neu indexieren."
        )


def _row_to_chunk(r: sqlite3.Row) -> Chunk:
    return Chunk(
        id=r["id"],
        text=r["text"],
        doc_id=r["doc_id"],
        title=r["title"],
        section=r["section"],
        source_path=r["path"],
        page=r["page"],
        page_end=r["page_end"],
        position=r["position"],
        page_starts=[(offset, page) for offset, page in json.loads(r["page_starts"])],
    )


def _delete_sentences(db: sqlite3.Connection, collection: str, chunk_ids: list[str]) -> None:
    for start in range(0, len(chunk_ids), 500):
        part = chunk_ids[start : start + 500]
        db.execute(
            f"DELETE FROM sentences WHERE collection=? AND chunk_id IN ({','.join('?' * len(part))})",
            (collection, *part),
        )
