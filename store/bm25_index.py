"""The persisted BM25 index: an SQLite FTS5 table inside the catalog, written in the same transaction
as the chunk rows, so it is as crash-safe as the catalog; queries are scored by `SparseBM25`, an
in-memory engine that follows the table incrementally (never rebuilt on the query path).

Table `chunks_fts` (migration 6) has two columns: `stems` (the German Snowball stems from
`analyze`, as stored in chunks.tokens) and `parts` (stems of compound parts, `compound_parts`). Its
rowid is the rowid of the chunk row; a trigger removes a chunk's entry when the chunk row goes,
whoever deletes it. FTS5's own bm25() is not used for ranking: it scores every row matching any
question term and recounts document frequencies per query, over a second at 20,000 chunks.

The catalog is never VACUUMed (that may renumber rowids); `rebuild` restores the index from the
chunk texts, and runs by itself when the analyzer version changes or the counts disagree.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
import threading
from collections.abc import Iterable, Sequence

import numpy as np

from kreiswissen.schema import Chunk
from text.german_text import ANALYZER_VERSION, analyze, compound_parts

MIGRATION = """
CREATE VIRTUAL TABLE chunks_fts USING fts5(stems, parts, tokenize = 'unicode61 remove_diacritics 0');
CREATE TABLE bm25_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# The change feed readers follow ('i'nserted / 'd'eleted chunk rowid, 'r'ebuilt): SQLite re-uses the
# rowids of deleted rows, so comparing rowid sets could miss a replaced chunk; the log cannot.
_LOG = "CREATE TABLE IF NOT EXISTS bm25_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, op TEXT, rowid INTEGER)"
_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS chunks_fts_delete_logged AFTER DELETE ON chunks BEGIN "
    "DELETE FROM chunks_fts WHERE rowid = old.rowid; "
    "INSERT INTO bm25_log (op, rowid) VALUES ('d', old.rowid); END"
)
PARTS_WEIGHT = 0.5  # a match on a compound's part is weaker evidence than on a whole word


def bm25_text(chunk: Chunk) -> str:
    """What the BM25 index sees of a chunk (as ingest/service.py analyses it)."""
    return f"{chunk.heading_line}\n{chunk.text}"


def parts_of(chunks: Sequence[Chunk]) -> list[str]:
    return [" ".join(compound_parts(bm25_text(c))) for c in chunks]


def ensure(db: sqlite3.Connection) -> bool:
    """Install the delete trigger; rebuild when the analyzer changed or the index lost step with the
    chunk rows. Returns whether it rebuilt."""
    db.execute(_LOG)
    db.execute("DROP TRIGGER IF EXISTS chunks_fts_delete")  # before the change feed
    db.execute(_TRIGGER)
    stored = db.execute("SELECT value FROM bm25_meta WHERE key='analyzer'").fetchone()
    chunks = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    indexed = db.execute("SELECT COUNT(*) FROM chunks_fts").fetchone()[0]
    if stored is not None and stored[0] == str(ANALYZER_VERSION) and chunks == indexed:
        if log_position(db) == 0:  # an index from before the change feed: readers load it whole
            db.execute("INSERT INTO bm25_log (op, rowid) VALUES ('r', 0)")
        return False
    rebuild(db)
    return True


def rebuild(db: sqlite3.Connection) -> None:
    """Re-analyse every stored chunk text (one transaction; minutes at 100,000 chunks)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("DELETE FROM chunks_fts")
        db.execute("DELETE FROM bm25_log")
        db.execute("INSERT INTO bm25_log (op, rowid) VALUES ('r', 0)")
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
    db.executemany(
        "INSERT INTO bm25_log (op, rowid) SELECT 'i', rowid FROM chunks WHERE collection=? AND id=?",
        [(collection, cid) for cid in ids],
    )


def log_position(db: sqlite3.Connection) -> int:
    """Where the change feed stands (changes with every write to the index)."""
    return db.execute("SELECT COALESCE(MAX(seq), 0) FROM bm25_log").fetchone()[0]


class SparseBM25:
    """BM25 of one collection as numpy arrays (term-major postings), read from `chunks_fts` and kept
    in step incrementally: each look at the catalog reads the change feed (`bm25_log`) since the last
    one and only the rows added since (deleted ones are masked). A query costs O(postings of its terms)
    in numpy — milliseconds at 100,000 chunks — where FTS5's own bm25() scores every matching row and
    recounts document frequencies per query (over a second at 20,000 chunks, `bench retrieval`).

    decompound=False is classic BM25 on the stems; True adds the compound parts (tf weight
    PARTS_WEIGHT) and counts them in the document length, as a decompounder adding the parts to the
    field does in Lucene. IDF as in FTS5: log((N - df + 0.5) / (df + 0.5)), floored at 1e-6."""

    K1, B = 1.2, 0.75

    def __init__(self, collection: str) -> None:
        self.collection = collection
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._seen = 0  # last change-feed position applied
        self.vocab: dict[str, int] = {}
        self.ids: list[str] = []
        self.by_id: dict[str, int] = {}  # live chunk id -> doc index
        self.rowids: dict[int, int] = {}  # chunk rowid -> doc index
        self.alive = np.zeros(0, dtype=bool)
        self.length = np.zeros((2, 0), dtype=np.float32)  # stems, parts per doc
        self._base: _Postings | None = None
        self._delta_docs: list[int] = []
        self._delta: _Postings | None = None
        self._terms: list[tuple[np.ndarray, np.ndarray]] = []  # per doc: term ids of stems, of parts

    def sync(self, db: sqlite3.Connection) -> None:
        with self._lock:
            if log_position(db) == self._seen:
                return
            db.execute("BEGIN")  # one snapshot for the feed and the rows it names (WAL)
            try:
                self._apply(db)
            finally:
                db.execute("COMMIT")

    def _apply(self, db: sqlite3.Connection) -> None:
        changes = db.execute("SELECT seq, op, rowid FROM bm25_log WHERE seq > ? ORDER BY seq", (self._seen,))
        changes = changes.fetchall()
        if any(op == "r" for _, op, _ in changes) or (
            changes and changes[0][0] > self._seen + 1 and self._seen
        ):
            self._reset()  # rebuilt (or feed trimmed): read everything anew
            changes, reload = [], True
            self._seen = log_position(db)
        else:
            reload = False
        touched: dict[int, str] = {}
        for seq, op, rowid in changes:
            if op == "d" or rowid in touched:  # a re-inserted rowid: the old document goes first
                doc = self.rowids.pop(rowid, None)
                if doc is not None:
                    self.alive[doc] = False
                    self.by_id.pop(self.ids[doc], None)
            touched[rowid] = op
            self._seen = max(self._seen, seq)
        for rowid in [r for r, op in touched.items() if op == "i" and r in self.rowids]:
            doc = self.rowids.pop(rowid)  # indexed before and inserted again: replace
            self.alive[doc] = False
            self.by_id.pop(self.ids[doc], None)
        added = sorted(r for r, op in touched.items() if op == "i")
        first = len(self.ids)
        # CROSS JOIN fixes the loop order: FTS5 looks rows up by rowid instead of being scanned.
        if reload:
            batches = [
                db.execute(
                    "SELECT c.rowid, c.id, f.stems, f.parts FROM chunks c CROSS JOIN chunks_fts f "
                    "ON f.rowid = c.rowid WHERE c.collection = ?",
                    (self.collection,),
                )
            ]
        else:
            batches = [
                db.execute(
                    "SELECT f.rowid, c.id, f.stems, f.parts FROM chunks_fts f CROSS JOIN chunks c "
                    f"ON c.rowid = f.rowid WHERE f.rowid IN ({','.join('?' * len(part))}) AND c.collection = ?",
                    (*part, self.collection),
                )
                for part in (added[i : i + 500] for i in range(0, len(added), 500))
            ]
        for rows in batches:
            for rowid, cid, stems, parts in rows:
                self.rowids[rowid] = self.by_id[cid] = len(self.ids)
                self.ids.append(cid)
                self._terms.append((self._ids_of(stems), self._ids_of(parts)))
        n = len(self.ids)
        grown = n - first
        self.alive = np.concatenate([self.alive, np.ones(grown, dtype=bool)])
        self.length = np.concatenate(
            [
                self.length,
                np.array(
                    [[len(t[0]) for t in self._terms[first:]], [len(t[1]) for t in self._terms[first:]]],
                    dtype=np.float32,
                ).reshape(2, grown),
            ],
            axis=1,
        )
        if self._base is None or len(self._delta_docs) + grown > max(1000, n // 5):
            self._base, self._delta_docs, self._delta = _Postings.build(self._terms, range(n)), [], None
        elif grown:
            self._delta_docs += range(first, n)
            self._delta = _Postings.build(self._terms, self._delta_docs)

    def _ids_of(self, tokens: str) -> np.ndarray:
        vocab = self.vocab
        return np.fromiter((vocab.setdefault(t, len(vocab)) for t in tokens.split()), dtype=np.int32)

    def scores(self, terms: list[str], decompound: bool) -> np.ndarray:
        """BM25 score of every document (0 for deleted ones)."""
        n_docs = len(self.ids)
        out = np.zeros(n_docs, dtype=np.float64)
        alive_n = int(self.alive.sum())
        if not alive_n:
            return out
        length = self.length[0] + (self.length[1] if decompound else 0.0)
        avgdl = float(length[self.alive].mean()) or 1.0
        norm = self.K1 * (1 - self.B + self.B * length / avgdl)
        for term in dict.fromkeys(terms):
            docs, tf = self._live(term, decompound)
            if len(docs):
                out[docs] += self._idf(len(docs), alive_n) * tf * (self.K1 + 1) / (tf + norm[docs])
        return out

    def occurs(self, term: str) -> bool:
        """Whether a live document holds the term, as a stem or as a compound part."""
        return bool(len(self._live(term, decompound=True)[0]))

    def ceiling(self, terms: list[str], decompound: bool) -> float:
        """The score a document matching every query term with saturated frequency would get: the
        sum of idf · (k1 + 1). A candidate's score over it is the share of the query it matches."""
        alive_n = int(self.alive.sum())
        dfs = (len(self._live(term, decompound)[0]) for term in dict.fromkeys(terms))
        return sum(self._idf(df, alive_n) * (self.K1 + 1) for df in dfs if df)

    def idf(self, term: str) -> float:
        """How specific the term is in this collection (0 for a term no live document holds)."""
        df = len(self._live(term, decompound=True)[0])
        return self._idf(df, int(self.alive.sum())) if df else 0.0

    @staticmethod
    def _idf(df: int, alive_n: int) -> float:
        return max(math.log((alive_n - df + 0.5) / (df + 0.5)), 1e-6)

    def _live(self, term: str, decompound: bool) -> tuple[np.ndarray, np.ndarray]:
        """The live documents holding the term, with its (weighted) frequency in each."""
        t = self.vocab.get(term)
        if t is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        docs, tf = self._postings(t, decompound)
        keep = self.alive[docs] & (tf > 0)
        return docs[keep], tf[keep]

    def _postings(self, t: int, decompound: bool) -> tuple[np.ndarray, np.ndarray]:
        parts = [p.term(t, decompound) for p in (self._base, self._delta) if p is not None]
        if len(parts) == 1:
            return parts[0]
        return np.concatenate([d for d, _ in parts]), np.concatenate([f for _, f in parts])


class _Postings:
    """Term-major postings of some documents: for term t, docs[start[t]:start[t+1]] with their tf
    in the stems and in the parts."""

    def __init__(self, start: np.ndarray, docs: np.ndarray, tf: np.ndarray) -> None:
        self.start, self.docs, self.tf = start, docs, tf

    @classmethod
    def build(cls, terms: list[tuple[np.ndarray, np.ndarray]], docs: Iterable[int]) -> _Postings:
        doc_ids = np.fromiter(docs, dtype=np.int64)
        stems = [terms[d][0] for d in doc_ids]
        parts = [terms[d][1] for d in doc_ids]
        n_stems = np.fromiter(map(len, stems), dtype=np.int64, count=len(doc_ids))
        n_parts = np.fromiter(map(len, parts), dtype=np.int64, count=len(doc_ids))
        t = np.concatenate([*stems, *parts, np.zeros(0, dtype=np.int32)]).astype(np.int64)
        d = np.concatenate([np.repeat(doc_ids, n_stems), np.repeat(doc_ids, n_parts)])
        in_parts = np.arange(len(t)) >= n_stems.sum()
        uniq, inverse = np.unique((t << 32) | d, return_inverse=True)
        tf = np.stack(
            [
                np.bincount(inverse[~in_parts], minlength=len(uniq)),
                np.bincount(inverse[in_parts], minlength=len(uniq)),
            ]
        ).astype(np.float32)
        uterms = uniq >> 32
        size = int(uterms.max()) + 2 if len(uterms) else 1
        start = np.searchsorted(uterms, np.arange(size))
        return cls(start, uniq & 0xFFFFFFFF, tf)

    def term(self, t: int, decompound: bool) -> tuple[np.ndarray, np.ndarray]:
        if t + 1 >= len(self.start):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        a, b = self.start[t], self.start[t + 1]
        tf = self.tf[0, a:b] + PARTS_WEIGHT * self.tf[1, a:b] if decompound else self.tf[0, a:b]
        return self.docs[a:b], tf


_ENGINES: dict[tuple[str, str], SparseBM25] = {}
_ENGINES_LOCK = threading.Lock()


def engine(db: sqlite3.Connection, path: str, collection: str) -> SparseBM25:
    """The process-wide engine of one catalog's collection, brought in step with the catalog."""
    with _ENGINES_LOCK:
        found = _ENGINES.setdefault((path, collection), SparseBM25(collection))
    found.sync(db)
    return found


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


def digest(db: sqlite3.Connection) -> str:
    """A hash of the FTS5 index's stored blocks."""
    found = hashlib.sha256()
    for row in db.execute("SELECT id, block FROM chunks_fts_data ORDER BY id"):
        found.update(repr(tuple(row)).encode())
    return found.hexdigest()
