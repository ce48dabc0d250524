"""The persisted BM25 index (SQLite FTS5 table in the catalog) and its in-memory engine: real BM25
scores, incremental updates with the chunk rows, self-repair, nothing written when a re-index finds
nothing changed."""

from __future__ import annotations

import hashlib
import math
import sqlite3
from pathlib import Path

import pytest

from ingest.service import IngestService
from kreiswissen.schema import Chunk
from rag.retrieval import BM25Retriever
from store.catalog import Catalog, FileRecord
from tests.conftest import make_settings
from text.german_text import analyze

TEXTS = {
    "/a.md": ["Das Tagegeld bei einer Dienstreise beträgt 24 Euro.", "Die Unterkunft wird erstattet."],
    "/b.md": ["Die Anmeldung einer Wohnung ist binnen zwei Wochen Pflicht.", "Tagegeld und Tagegeld."],
    "/c.md": ["Hunde sind im Kreishaus nicht erlaubt."],
}


def _put(catalog: Catalog, path: str, texts: list[str]) -> list[str]:
    chunks = [
        Chunk(id=f"{path}#{i}", text=t, doc_id=path, title="T", section="", source_path=path, position=i)
        for i, t in enumerate(texts)
    ]
    tokens = [" ".join(analyze(f"{c.heading_line}\n{c.text}")) for c in chunks]
    record = FileRecord(path, path, 1, 1.0, "T", len(chunks), 1.0)
    return catalog.replace_file("k", record, chunks, tokens)


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(tmp_path / "catalog.sqlite")
    for path, texts in TEXTS.items():
        _put(catalog, path, texts)
    return catalog


def _okapi(
    docs: dict[str, list[str]], lengths: dict[str, int], query: list[str], k1: float = 1.2, b: float = 0.75
) -> dict[str, float]:
    """Okapi BM25 with FTS5's IDF (floored at 1e-6 instead of negative)."""
    n, avgdl = len(docs), sum(lengths.values()) / len(docs)
    scores = dict.fromkeys(docs, 0.0)
    for term in query:
        df = sum(term in d for d in docs.values())
        idf = math.log((n - df + 0.5) / (df + 0.5)) if df else 0.0
        idf = idf if idf > 0 else 1e-6
        for cid, d in docs.items():
            f = d.count(term)
            scores[cid] += idf * f * (k1 + 1) / (f + k1 * (1 - b + b * lengths[cid] / avgdl)) if f else 0.0
    return scores


def test_scores_are_okapi_bm25_for_any_chunk(catalog: Catalog) -> None:
    rows = catalog.db.execute(
        "SELECT c.id, f.stems, f.parts FROM chunks c JOIN chunks_fts f ON f.rowid = c.rowid"
    ).fetchall()
    docs = {cid: stems.split() for cid, stems, _ in rows}
    lengths = {cid: len(stems.split()) for cid, stems, _ in rows}  # without decompounding: stems only
    assert any(parts for _, _, parts in rows)  # "Dienstreise" has parts; they must not count here
    query = "Wie hoch ist das Tagegeld für die Unterkunft?"
    expected = _okapi(docs, lengths, analyze(query))
    leg = BM25Retriever(catalog, "k", 10, decompound=False)
    got = leg.scores_for(query, list(docs))
    assert got == pytest.approx(expected, rel=1e-6, abs=1e-9)
    ranked = [n.node.node_id for n in leg.retrieve(query)]
    assert ranked == sorted((c for c in expected if expected[c] > 0), key=lambda c: -expected[c])
    assert ranked[0] == "/a.md#1"  # "Unterkunft" is the rarer term


def test_index_follows_the_chunk_rows(catalog: Catalog, tmp_path: Path) -> None:
    leg = BM25Retriever(catalog, "k", 10)

    def hits(query: str) -> list[str]:
        return [n.node.node_id for n in leg.retrieve(query)]

    assert hits("Hunde im Kreishaus") == ["/c.md#0"]
    _put(catalog, "/c.md", ["Katzen sind willkommen."])  # changed file (its new row re-uses the rowid)
    assert hits("Hunde im Kreishaus") == []
    assert hits("Katzen") == ["/c.md#0"]
    catalog.remove_file("k", "/b.md")  # the delete trigger removes its entries
    assert hits("Anmeldung Wohnung") == []
    assert catalog.db.execute("SELECT COUNT(*) FROM chunks_fts").fetchone()[0] == 3
    # another collection in the same catalog is not searched
    other = BM25Retriever(catalog, "other", 10)
    assert other.retrieve("Katzen") == [] and other.scores_for("Katzen", ["/c.md#0"]) == {"/c.md#0": 0.0}


def test_index_rebuilds_itself_when_out_of_step(catalog: Catalog) -> None:
    path = catalog.path
    catalog.db.execute("DELETE FROM chunks_fts")  # e.g. an index written by an older analyzer
    catalog.db.execute("UPDATE bm25_meta SET value='0' WHERE key='analyzer'")
    reopened = Catalog(path)
    assert [n.node.node_id for n in BM25Retriever(reopened, "k", 10).retrieve("Hunde")] == ["/c.md#0"]
    assert reopened.db.execute("SELECT value FROM bm25_meta").fetchone()[0] != "0"


def _fts_digest(path: Path) -> str:
    db = sqlite3.connect(path)
    rows = db.execute("SELECT id, block FROM chunks_fts_data ORDER BY id").fetchall()
    rows += db.execute("SELECT rowid, * FROM chunks_fts ORDER BY rowid").fetchall()
    db.close()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_unchanged_reindex_writes_nothing_to_the_index(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "reise.md").write_text("# Reise\n\n## 1 Tagegeld\n\nDas Tagegeld beträgt 24 Euro.\n", "utf-8")
    (folder / "hunde.md").write_text("# Haus\n\n## 1 Hunde\n\nHunde sind nicht erlaubt.\n", "utf-8")
    settings = make_settings(tmp_path / "data")
    service = IngestService(settings)
    service.ingest([folder])
    catalog_path = settings.index_dir / "catalog.sqlite"
    before = _fts_digest(catalog_path)
    (folder / "hunde.md").touch()  # touched, not changed: re-hashed, but nothing re-indexed
    report = service.ingest([folder])
    assert len(report.skipped) == 2 and report.chunks_added == 0
    assert _fts_digest(catalog_path) == before
    (folder / "hunde.md").write_text("# Haus\n\n## 1 Katzen\n\nKatzen sind erlaubt.\n", "utf-8")
    service.ingest([folder])
    assert _fts_digest(catalog_path) != before
    leg = BM25Retriever(service.store.catalog, settings.collection, 10)
    assert [n.node.node_id for n in leg.retrieve("Katzen")] and not leg.retrieve("Hunde")
