"""The persisted BM25 index: an SQLite FTS5 table inside the catalog, written in the same transaction
as the chunk rows, so it is as crash-safe as the catalog and never rebuilt on the query path.

Table `chunks_fts` (migration 6) has two columns: `stems` (the German Snowball stems from
`analyze`, as stored in chunks.tokens) and `parts` (stems of compound parts, `compound_parts`). Its
rowid is the rowid of the chunk row; a trigger removes a chunk's entry when the chunk row goes,
whoever deletes it. Ranking is FTS5's bm25() (k1=1.2, b=0.75; document frequencies over the whole
catalog, i.e. all collections). A question's stems (and, with decompounding, its compound parts)
are OR-ed; without decompounding only the `stems` column is searched, which is plain BM25 on stems.

The catalog is never VACUUMed (that may renumber rowids); `rebuild` restores the index from the
chunk texts, and runs by itself when the analyzer version changes or the counts disagree.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from kreiswissen.schema import Chunk

from .german_text import ANALYZER_VERSION, analyze, compound_parts

MIGRATION = """
CREATE VIRTUAL TABLE chunks_fts USING fts5(stems, parts, tokenize = 'unicode61 remove_diacritics 0');
CREATE TABLE bm25_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS chunks_fts_delete AFTER DELETE ON chunks "
    "BEGIN DELETE FROM chunks_fts WHERE rowid = old.rowid; END"
)
PARTS_WEIGHT = 0.5  # a match on a compound's part is weaker evidence than on a whole word
_RANK = f"-bm25(chunks_fts, 1.0, {PARTS_WEIGHT})"


def bm25_text(chunk: Chunk) -> str:
    """What the BM25 index sees of a chunk (as ingest/service.py analyses it)."""
    return f"{chunk.heading_line}\n{chunk.text}"


def parts_of(chunks: Sequence[Chunk]) -> list[str]:
    return [" ".join(compound_parts(bm25_text(c))) for c in chunks]


def ensure(db: sqlite3.Connection) -> bool:
    """Install the delete trigger; rebuild when the analyzer changed or the index lost step with the
    chunk rows. Returns whether it rebuilt."""
    db.execute(_TRIGGER)
    stored = db.execute("SELECT value FROM bm25_meta WHERE key='analyzer'").fetchone()
    chunks = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    indexed = db.execute("SELECT COUNT(*) FROM chunks_fts").fetchone()[0]
    if stored is not None and stored[0] == str(ANALYZER_VERSION) and chunks == indexed:
        return False
    rebuild(db)
    return True


def rebuild(db: sqlite3.Connection) -> None:
    """Re-analyse every stored chunk text (one transaction; minutes at 100,000 chunks)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("DELETE FROM chunks_fts")
        rowids = [r[0] for r in db.execute("SELECT rowid FROM chunks")]
        for start in range(0, len(rowids), 500):
            part = rowids[start : start + 500]
            batch = db.execute(
                f"SELECT rowid, title, section, text FROM chunks WHERE rowid IN ({','.join('?' * len(part))})",
                part,
            ).fetchall()
            entries = []
            for rowid, title, section, text in batch:
                content = f"{title} › {section}\n{text}" if section else f"{title}\n{text}"
                stems = analyze(content)
                entries.append((rowid, " ".join(stems), " ".join(compound_parts(content))))
                db.execute("UPDATE chunks SET tokens=? WHERE rowid=?", (" ".join(stems), rowid))
            db.executemany("INSERT INTO chunks_fts (rowid, stems, parts) VALUES (?,?,?)", entries)
        db.execute("INSERT OR REPLACE INTO bm25_meta VALUES ('analyzer', ?)", (str(ANALYZER_VERSION),))
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def add(
    db: sqlite3.Connection, collection: str, ids: Sequence[str], tokens: Sequence[str], parts: Sequence[str]
) -> None:
    """Index freshly inserted chunk rows (inside the caller's transaction)."""
    db.executemany(
        "INSERT INTO chunks_fts (rowid, stems, parts) "
        "SELECT rowid, ?, ? FROM chunks WHERE collection=? AND id=?",
        [(t, p, collection, cid) for cid, t, p in zip(ids, tokens, parts, strict=True)],
    )


def match_expression(stems: Iterable[str], parts: Iterable[str], decompound: bool) -> str | None:
    terms = list(dict.fromkeys([*stems, *(parts if decompound else [])]))
    if not terms:
        return None
    body = " OR ".join(f'"{t}"' for t in terms)  # tokens are [a-z0-9]+; quoted, never FTS syntax
    return body if decompound else f"stems : ({body})"


def search(db: sqlite3.Connection, collection: str, match: str, limit: int) -> list[tuple[str, float]]:
    # CROSS JOIN keeps the FTS table as the outer loop (the planner may otherwise scan chunks).
    return [
        (r[0], float(r[1]))
        for r in db.execute(
            f"SELECT c.id, {_RANK} AS score FROM chunks_fts CROSS JOIN chunks c ON c.rowid = chunks_fts.rowid "
            "WHERE chunks_fts MATCH ? AND c.collection = ? ORDER BY score DESC LIMIT ?",
            (match, collection, limit),
        )
    ]


def scores(db: sqlite3.Connection, collection: str, match: str, ids: Sequence[str]) -> dict[str, float]:
    """BM25 scores of the given chunks (0 for chunks without a matching term)."""
    out = dict.fromkeys(ids, 0.0)
    for start in range(0, len(ids), 500):
        part = list(ids[start : start + 500])
        rows = db.execute(
            f"SELECT c.id, {_RANK} FROM chunks_fts CROSS JOIN chunks c ON c.rowid = chunks_fts.rowid "
            f"WHERE chunks_fts MATCH ? AND chunks_fts.rowid IN (SELECT rowid FROM chunks "
            f"WHERE collection = ? AND id IN ({','.join('?' * len(part))}))",
            (match, collection, *part),
        )
        out.update({r[0]: float(r[1]) for r in rows})
    return out


def known(db: sqlite3.Connection, collection: str, ids: Sequence[str]) -> set[str]:
    """The chunk ids among `ids` that the catalog holds."""
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        part = list(ids[start : start + 500])
        found.update(
            r[0]
            for r in db.execute(
                f"SELECT id FROM chunks WHERE collection=? AND id IN ({','.join('?' * len(part))})",
                (collection, *part),
            )
        )
    return found
