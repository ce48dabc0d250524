"""Ingest with a real Chroma store in a temp dir and the real bundled embedder."""

from __future__ import annotations

import shutil
from pathlib import Path

from ingest.service import IngestService
from kreiswissen.settings import Settings
from tests.conftest import CORPUS, SHARED


def _small_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(SHARED / "corpus-public" / "brkg_2005.md", folder)
    shutil.copy(next(iter(sorted(CORPUS.glob("*.txt")))), folder)
    return folder


def test_reingest_unchanged_folder_adds_no_duplicates(settings: Settings, tmp_path: Path) -> None:
    folder = _small_folder(tmp_path)
    service = IngestService(settings)
    first = service.ingest([folder])
    assert len(first.added) == 2 and not first.failed
    count = service.store.vector_count(settings.collection)
    assert count == first.chunks_added > 10

    second = service.ingest([folder])
    assert second.added == [] and len(second.skipped) == 2
    assert service.store.vector_count(settings.collection) == count
    assert len(service.store.catalog.chunk_ids(settings.collection)) == count


def test_bad_files_are_skipped_with_reason_and_the_rest_is_indexed(
    settings: Settings, tmp_path: Path
) -> None:
    folder = _small_folder(tmp_path)
    (folder / "kaputt.pdf").write_bytes(b"%PDF-1.7\n%%EOF garbage")
    (folder / "leer.md").write_text("")
    (folder / "tabelle.docx").write_bytes(b"PK not really a zip")
    report = IngestService(settings).ingest([folder])
    failed = dict(report.failed)
    assert set(map(lambda p: Path(p).name, failed)) == {"kaputt.pdf", "leer.md", "tabelle.docx"}
    assert all(reason for reason in failed.values())
    assert len(report.added) == 2
    assert "2 neu" in report.summary_de() and "3 fehlgeschlagen" in report.summary_de()


def test_changed_file_replaces_its_chunks(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    doc = folder / "regel.md"
    doc.write_text(
        "# Regel\n\n## 1 Frist\n\nDie Frist beträgt zwei Wochen.\n\n## 2 Gebühr\n\nDie Gebühr beträgt 10 Euro.\n"
    )
    service = IngestService(settings)
    assert service.ingest([folder]).chunks_added == 2
    doc.write_text(
        "# Regel\n\n## 1 Frist\n\nDie Frist beträgt drei Wochen.\n\n## 2 Gebühr\n\nDie Gebühr beträgt 10 Euro.\n"
    )
    report = service.ingest([folder])
    assert len(report.changed) == 1 and report.chunks_reused == 1
    texts = [c.text for c in service.store.catalog.chunks(settings.collection)]
    assert texts == ["Die Frist beträgt drei Wochen.", "Die Gebühr beträgt 10 Euro."]
    assert service.store.vector_count(settings.collection) == 2
