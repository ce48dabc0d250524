"""The catalog's public reads and writes (the only way to its tables outside store/), the one SQLite
helper behind it, the one JSON form of sources and answers, and the one RRF."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kreiswissen.schema import Answer, Chunk, Source
from rag.audit_log import CITED_FIELDS
from rag.rerank import reciprocal_rank_fusion
from store.catalog import Catalog, FileRecord
from store.sqlite_db import SQLiteDB


def _chunk(path: str, i: int, section: str) -> Chunk:
    return Chunk(
        id=f"{path}#{i}",
        text=f"Text {i}",
        doc_id="fzv",
        title="FZV",
        section=section,
        source_path=path,
        page=i + 1,
        position=i,
    )


def test_catalog_methods_read_and_write_what_callers_used_sql_for(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite")
    assert catalog.db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL, on the one helper
    catalog.ensure_collection("Recht", "emb", ["/docs"], ["amt"])
    chunks = [_chunk("/docs/fzv.pdf", 0, "§ 6 Antrag"), _chunk("/docs/fzv.pdf", 1, "§ 7 Zulassung")]
    vector = np.ones(4, dtype=np.float16).tobytes()
    record = FileRecord("/docs/fzv.pdf", "abc123", 10, 1.0, "FZV", 2, 1.0)
    catalog.replace_file("Recht", record, chunks, ["a", "b"], [[("Satz.", vector)], []])

    assert catalog.collection("Recht") is not None
    assert catalog.collection("Recht")["folders"] == ["/docs"]
    assert catalog.collection("Recht")["groups"] == ["amt"]
    assert catalog.collection("Fehlt") is None
    assert catalog.chunk_locations("/docs/fzv.pdf#1") == [("Recht", "/docs/fzv.pdf")]
    assert catalog.file_sha256_of_chunk("/docs/fzv.pdf#0") == "abc123"
    assert catalog.file_sha256_of_chunk("unbekannt") is None
    assert [r["id"] for r in catalog.section_chunks("Recht", "§ 7")] == ["/docs/fzv.pdf#1"]
    assert catalog.known_ids("Recht", ["/docs/fzv.pdf#0", "x"]) == {"/docs/fzv.pdf#0"}
    assert catalog.sentence_count("Recht") == 1
    catalog.touch_file("Recht", "/docs/fzv.pdf", 5.0)
    assert catalog.files("Recht")["/docs/fzv.pdf"].mtime == 5.0
    digest = catalog.bm25_digest()
    assert catalog.bm25_engine("Recht").scores(["zulassung"], False) is not None
    assert catalog.bm25_digest() == digest  # reading changes nothing


def test_sqlite_helper_migrates_once_and_rolls_back(tmp_path: Path) -> None:
    migrations = ["CREATE TABLE t (x INTEGER); CREATE INDEX t_x ON t (x)"]
    db = SQLiteDB(tmp_path / "a.sqlite", migrations)
    db.conn.execute("INSERT INTO t VALUES (1)")
    SQLiteDB(tmp_path / "a.sqlite", migrations)  # second open: nothing applied twice
    try:
        with db.transaction() as conn:
            conn.execute("INSERT INTO t VALUES (2)")
            raise RuntimeError
    except RuntimeError:
        pass
    assert [r[0] for r in db.conn.execute("SELECT x FROM t")] == [1]
    assert db.conn.execute("SELECT COUNT(*) FROM _migrations").fetchone()[0] == 1


def test_one_json_form_of_sources_and_answers() -> None:
    sources = [Source(n, _chunk("/docs/fzv.pdf", n, f"§ {n}"), 0.5) for n in (1, 2)]
    answer = Answer("Frage?", "Antwort [1]", sources, cited=[1], model="m", timings={"total": 1.0})
    assert answer.to_dict("cited", source_fields=CITED_FIELDS)["cited"] == [
        {"title": "FZV", "section": "§ 1", "page": 2, "path": "/docs/fzv.pdf"}
    ]
    assert sources[1].to_dict("number", "doc_id", rename={"number": "rank", "doc_id": "doc"}) == {
        "rank": 2,
        "doc": "fzv",
    }
    assert list(answer.to_dict())[:3] == ["question", "standalone_question", "answer"]
    assert [s["number"] for s in answer.to_dict("further")["further"]] == [2]


def test_reciprocal_rank_fusion_weights_ranks() -> None:
    fused = reciprocal_rank_fusion(({"a": 0.9, "b": 0.1}, 1.0), ({"b": 5.0}, 0.5), k=60)
    assert fused == {"a": 1.0 / 61, "b": 1.0 / 62 + 0.5 / 61}
