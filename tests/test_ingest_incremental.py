"""Re-indexing a folder: exact bookkeeping for add / change / delete / rename, and a killed run
that the next run completes to the same index a clean run builds."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from embedding.backends import build_embed_model
from ingest.service import IngestReport, IngestService
from kreiswissen.settings import Settings
from rag.retrieval import HybridRetriever
from store.index_store import IndexStore
from tests.conftest import ROOT, SHARED, make_settings


def markdown(title: str, sections: dict[str, str]) -> str:
    """A document with one short section per entry: each section becomes exactly one chunk."""
    body = "".join(f"## {heading}\n\n{text}\n\n" for heading, text in sections.items())
    return f"# {title}\n\n{body}"


ALPHA = markdown(
    "Dienstanweisung Posteingang",
    {
        "1 Zweck": "Die Dienstanweisung regelt die Bearbeitung der Eingangspost.",
        "2 Eingangsstempel": "Jedes Schriftstück erhält am Tag des Eingangs einen Eingangsstempel.",
        "3 Verteilung": "Die Poststelle verteilt die Post bis 10 Uhr an die Fachämter.",
    },
)
BETA = markdown(
    "Merkblatt Wohngeld",
    {
        "1 Antrag": "Wohngeld wird nur auf schriftlichen Antrag gewährt.",
        "2 Unterlagen": "Dem Antrag sind Mietvertrag und Einkommensnachweise beizufügen.",
    },
)
BETA_CHANGED = markdown(
    "Merkblatt Wohngeld",
    {
        "1 Antrag": "Wohngeld wird nur auf schriftlichen Antrag gewährt.",  # unchanged
        "2 Unterlagen": "Dem Antrag sind Mietvertrag, Einkommensnachweise und Kontoauszüge beizufügen.",
        "3 Bewilligungszeitraum": "Wohngeld wird in der Regel für zwölf Monate bewilligt.",
    },
)
GAMMA = markdown(
    "Leitfaden Kfz-Zulassung",
    {
        "1 Unterlagen": "Für die Zulassung sind Personalausweis und Zulassungsbescheinigung vorzulegen.",
        "2 Kennzeichen": "Wunschkennzeichen können vorab online reserviert werden.",
        "3 Gebühren": "Die Gebühr für eine Neuzulassung beträgt 26,30 Euro.",
        "4 Abmeldung": "Die Abmeldung ist auch ohne Termin möglich.",
    },
)


def _names(paths: list[str]) -> list[str]:
    return sorted(Path(p).name for p in paths)


def _assert_index(service: IngestService, collection: str, per_file: dict[str, int]) -> None:
    """Catalog and vector store hold exactly the expected chunks, and the same ones."""
    catalog = service.store.catalog
    files = catalog.files(collection)
    assert {Path(p).name: r.chunks for p, r in files.items()} == per_file
    for path, record in files.items():
        assert len(catalog.chunk_ids(collection, path)) == record.chunks
    ids = catalog.chunk_ids(collection)
    assert len(ids) == sum(per_file.values())
    assert service.store.vector_count(collection) == len(ids)
    assert service.store.vector_ids(collection) == set(ids)


def _embeddings(service: IngestService, collection: str, path: Path) -> list[list[float]]:
    catalog = service.store.catalog
    chunks = sorted(
        catalog.chunks(collection, catalog.chunk_ids(collection, str(path))), key=lambda c: c.position
    )
    by_id = service.store.embeddings(collection, [c.id for c in chunks])
    return [list(map(float, by_id[c.id])) for c in chunks]


def _counts(report: IngestReport) -> tuple[int, int, int]:
    return report.chunks_added, report.chunks_removed, report.chunks_reused


def test_add_change_delete_rename_keep_exact_counts(settings: Settings, tmp_path: Path) -> None:
    folder = (tmp_path / "ablage").resolve()
    folder.mkdir()
    (folder / "alpha.md").write_text(ALPHA, encoding="utf-8")
    (folder / "beta.md").write_text(BETA, encoding="utf-8")
    service = IngestService(settings)
    c = "Ablage"

    first = service.ingest([folder], collection=c)
    assert _names(first.added) == ["alpha.md", "beta.md"]
    assert first.changed == first.removed == first.renamed == first.skipped == first.failed == []
    assert _counts(first) == (5, 0, 0)
    _assert_index(service, c, {"alpha.md": 3, "beta.md": 2})

    # add
    (folder / "gamma.md").write_text(GAMMA, encoding="utf-8")
    added = service.ingest([folder], collection=c)
    assert _names(added.added) == ["gamma.md"]
    assert _names(added.skipped) == ["alpha.md", "beta.md"]
    assert added.changed == added.removed == added.renamed == []
    assert _counts(added) == (4, 0, 0)
    _assert_index(service, c, {"alpha.md": 3, "beta.md": 2, "gamma.md": 4})

    # change: section 1 stays (same id, embedding re-used), section 2 changes, section 3 is new
    beta_ids = set(service.store.catalog.chunk_ids(c, str(folder / "beta.md")))
    (folder / "beta.md").write_text(BETA_CHANGED, encoding="utf-8")
    changed = service.ingest([folder], collection=c)
    assert _names(changed.changed) == ["beta.md"]
    assert changed.added == changed.removed == changed.renamed == []
    assert _names(changed.skipped) == ["alpha.md", "gamma.md"]
    assert _counts(changed) == (3, 1, 1)  # 3 chunks written, the old section 2 removed, 1 re-used
    _assert_index(service, c, {"alpha.md": 3, "beta.md": 3, "gamma.md": 4})
    assert len(beta_ids & set(service.store.catalog.chunk_ids(c, str(folder / "beta.md")))) == 1

    # delete
    (folder / "alpha.md").unlink()
    removed = service.ingest([folder], collection=c)
    assert removed.removed == [str(folder / "alpha.md")]
    assert removed.added == removed.changed == removed.renamed == []
    assert _counts(removed) == (0, 3, 0)
    _assert_index(service, c, {"beta.md": 3, "gamma.md": 4})

    # rename: recognised by the hash, every embedding re-used, the old path gone
    old_ids = set(service.store.catalog.chunk_ids(c, str(folder / "gamma.md")))
    old_vectors = _embeddings(service, c, folder / "gamma.md")
    (folder / "gamma.md").rename(folder / "kfz-zulassung.md")
    renamed = service.ingest([folder], collection=c)
    assert renamed.renamed == [f"{folder / 'gamma.md'} → {folder / 'kfz-zulassung.md'}"]
    assert renamed.added == renamed.changed == renamed.removed == []
    assert _names(renamed.skipped) == ["beta.md"]
    assert renamed.chunks_reused == 4
    assert _counts(renamed) == (4, 0, 4)
    _assert_index(service, c, {"beta.md": 3, "kfz-zulassung.md": 4})
    assert service.store.catalog.chunk_ids(c, str(folder / "gamma.md")) == []
    new_ids = set(service.store.catalog.chunk_ids(c, str(folder / "kfz-zulassung.md")))
    assert not new_ids & old_ids  # ids name the path: the renamed file's chunks are new rows ...
    # ... with the old vectors, position by position (Chroma stores float32)
    assert np.allclose(_embeddings(service, c, folder / "kfz-zulassung.md"), old_vectors, atol=1e-6)
    assert {ch.doc_id for ch in service.store.catalog.chunks(c, new_ids)} == {"kfz-zulassung"}

    # nothing changed
    again = service.ingest([folder], collection=c)
    assert _names(again.skipped) == ["beta.md", "kfz-zulassung.md"]
    assert again.added == again.changed == again.removed == again.renamed == []
    assert _counts(again) == (0, 0, 0)
    _assert_index(service, c, {"beta.md": 3, "kfz-zulassung.md": 4})


# -- crash safety ------------------------------------------------------------------------------

CRASH_FILES = ("brkg_2005.md", "ifg.md", "ozg.md")  # ~60 chunks: several seconds of embedding


def _indexed_files(catalog_path: Path, collection: str) -> int:
    """Files the catalog lists as indexed; 0 while the catalog does not exist yet."""
    if not catalog_path.exists():
        return 0
    try:
        with sqlite3.connect(catalog_path, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM files WHERE collection=?", (collection,)).fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0


def test_killed_ingest_is_completed_by_the_next_run(tmp_path: Path) -> None:
    folder = (tmp_path / "gesetze").resolve()
    folder.mkdir()
    for name in CRASH_FILES:
        shutil.copy(SHARED / "corpus-public" / name, folder)
    crashed = tmp_path / "crashed"
    crashed_settings = make_settings(crashed)
    # Same settings as make_settings() gives this process: same environment and working directory.
    env = os.environ | {"KREISWISSEN_DATA_DIR": str(crashed), "KREISWISSEN_MODELS_DIR": str(ROOT / "models")}
    if crashed_settings.chroma.mode == "http":  # a shared Chroma server: this data dir's collections
        env["KREISWISSEN_CHROMA__COLLECTION_PREFIX"] = crashed_settings.chroma.collection_prefix
    log = (tmp_path / "ingest.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kreiswissen", "ingest", str(folder), "--collection", "x"],
        cwd=Path.cwd(),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    catalog_path = crashed / "index" / "catalog.sqlite"
    try:
        deadline = time.monotonic() + 300
        while _indexed_files(catalog_path, "x") < 1:
            assert proc.poll() is None, (tmp_path / "ingest.log").read_text()
            assert time.monotonic() < deadline, "ingest indexed nothing within 300 s"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        log.close()
    assert proc.returncode == -signal.SIGKILL

    # The half-built index: what the catalog lists is fully stored, and it answers queries.
    store = IndexStore(crashed_settings)
    done = store.catalog.files("x")
    assert 1 <= len(done) < len(CRASH_FILES), "the kill must land in the middle of the run"
    assert str(folder / "brkg_2005.md") in done
    assert set(store.catalog.chunk_ids("x")) <= store.vector_ids("x")
    assert store.catalog.last_run("x")["status"] == "running"  # the killed run never finished
    retriever = HybridRetriever(crashed_settings, store, build_embed_model(crashed_settings.embedding), "x")
    found = retriever.retrieve("Wie hoch ist das Tagegeld bei einer Dienstreise?")
    assert found.sources, "the half-built index must answer"
    assert found.sources[0].chunk.doc_id == "brkg_2005"
    assert {s.chunk.source_path for s in found.sources} <= set(done)

    # The next run completes it ...
    service = IngestService(crashed_settings, store=store)
    report = service.ingest([folder], collection="x")
    assert not report.failed
    # Files left unfinished are added; finished ones are not embedded again (skipped, or re-chunked
    # with every embedding re-used).
    assert sorted(report.added) == sorted(str(folder / n) for n in CRASH_FILES if str(folder / n) not in done)
    assert sorted(report.skipped + report.changed) == sorted(done)
    assert report.chunks_reused == sum(done[p].chunks for p in report.changed)
    # ... to exactly what a clean run builds.
    clean = IngestService(make_settings(tmp_path / "clean"))
    clean_report = clean.ingest([folder], collection="x")
    assert _names(clean_report.added) == sorted(CRASH_FILES)
    recovered_ids = set(store.catalog.chunk_ids("x"))
    assert recovered_ids == set(clean.store.catalog.chunk_ids("x"))
    assert store.vector_count("x") == clean.store.vector_count("x") == len(recovered_ids)
    assert store.vector_ids("x") == recovered_ids  # no orphan vectors
    assert {p: r.sha256 for p, r in store.catalog.files("x").items()} == {
        p: r.sha256 for p, r in clean.store.catalog.files("x").items()
    }
