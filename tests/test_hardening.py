"""Bad and hostile inputs: every good file is indexed, every bad one reported with its reason."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader, PdfWriter

from ingest.loaders import LoadError, load_document
from ingest.loaders.pdf_loader import ocr_available
from ingest.service import IngestService
from tests.conftest import CORPUS, SHARED, make_settings

REAL_PDFS = SHARED / "pdfs-real"


def test_real_gazette_pdfs_are_indexed_or_reported(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    report = IngestService(settings).ingest([REAL_PDFS])
    files = sorted(REAL_PDFS.glob("*.pdf"))
    handled = {Path(p).name for p in report.added} | {Path(p).name for p, _ in report.failed}
    assert handled == {f.name for f in files}
    assert all(reason for _, reason in report.failed)
    assert len(report.added) >= 25  # forms with a text layer are indexed, not skipped
    chunks = IngestService(settings).store.catalog.chunks(settings.collection)
    assert all(c.page for c in chunks)
    # forms whose plain extraction falls apart are read in layout mode: real words, not letter soup
    awv = [c for c in chunks if c.doc_id.startswith("a_awv") and "Außenwirtschaft" in c.text]
    assert awv


def _scanned_pdf(path: Path, text: str) -> None:
    """A PDF page that is only an image of text, like a scanned fax."""
    image = Image.new("RGB", (1700, 600), "white")
    font = ImageFont.truetype("DejaVuSans.ttf", 48) if _has_dejavu() else ImageFont.load_default(size=48)
    ImageDraw.Draw(image).multiline_text((60, 80), text, fill="black", font=font, spacing=20)
    image.save(path, "PDF", resolution=200)


def _has_dejavu() -> bool:
    try:
        ImageFont.truetype("DejaVuSans.ttf", 10)
        return True
    except OSError:
        return False


def _bad_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "eingang"
    folder.mkdir()
    good_pdf = next(iter(sorted(CORPUS.glob("*.pdf"))))
    shutil.copy(good_pdf, folder / "gut.pdf")
    shutil.copy(next(iter(sorted(CORPUS.glob("*.md")))), folder / "gut.md")
    data = good_pdf.read_bytes()
    (folder / "abgeschnitten.pdf").write_bytes(data[: len(data) // 3])
    (folder / "leer.pdf").write_bytes(b"")
    writer = PdfWriter(clone_from=PdfReader(good_pdf))
    writer.encrypt("geheim")
    writer.write(folder / "passwort.pdf")
    blank = PdfWriter()
    blank.add_blank_page(width=595, height=842)
    blank.write(folder / "leerseite.pdf")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("notiz.txt", "kein Word-Dokument")
    (folder / "verpackt.docx").write_bytes(buf.getvalue())
    (folder / "programm.txt").write_bytes(bytes(range(256)) * 64)
    (folder / "umlaute-cp1252.txt").write_bytes(
        "Gebührenbescheid\n\n1 Zahlung\nDie Gebühr beträgt 25 €.\n".encode("cp1252")
    )
    (folder / "umlaute-latin1.md").write_bytes(
        "# Übersicht\n\n## 1 Öffnungszeiten\n\nMontag bis Freitag.\n".encode("latin-1")
    )
    (folder / "lange-zeile.txt").write_text(
        "Titel\n\n" + "Antragsunterlagen Nachweis " * 5000, encoding="utf-8"
    )
    return folder


def test_bad_files_are_reported_and_good_ones_indexed(tmp_path: Path) -> None:
    folder = _bad_folder(tmp_path)
    settings = make_settings(tmp_path / "data")
    service = IngestService(settings)
    report = service.ingest([folder])
    failed = {Path(p).name: reason for p, reason in report.failed}
    added = {Path(p).name for p in report.added}
    assert added == {"gut.pdf", "gut.md", "umlaute-cp1252.txt", "umlaute-latin1.md", "lange-zeile.txt"}
    assert "beschädigt" in failed["abgeschnitten.pdf"] or "keine Seiten" in failed["abgeschnitten.pdf"]
    assert failed["leer.pdf"]
    assert "passwortgeschützt" in failed["passwort.pdf"]
    assert "OCR" in failed["leerseite.pdf"] or "keinen erkennbaren Text" in failed["leerseite.pdf"]
    assert "DOCX" in failed["verpackt.docx"]
    assert "Binärdaten" in failed["programm.txt"]
    chunks = service.store.catalog.chunks(settings.collection)
    assert max(len(c.text) for c in chunks) <= settings.retrieval.chunk_size * 1.5
    assert any("25 €" in c.text for c in chunks)
    assert service.store.vector_count(settings.collection) == len(chunks)


def test_size_limit_and_time_limit_stop_only_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(next(iter(sorted(CORPUS.glob("*.md")))), folder / "a.md")
    shutil.copy(next(iter(sorted(CORPUS.glob("*.pdf")))), folder / "b.pdf")
    settings = make_settings(tmp_path / "data")
    small = settings.model_copy(update={"ingest": settings.ingest.model_copy(update={"max_file_mb": 0.001})})
    report = IngestService(small).ingest([folder])
    assert len(report.failed) == 2 and all("größer als" in r for _, r in report.failed)

    hurried = settings.model_copy(
        update={"ingest": settings.ingest.model_copy(update={"file_timeout_s": 0.01})}
    )
    report = IngestService(hurried).ingest([folder])
    assert {Path(p).name for p, _ in report.failed} == {"a.md", "b.pdf"}
    assert all("Zeitlimit" in r for _, r in report.failed)
    # the worker is replaced after a timeout: a normal run right after indexes everything
    assert len(IngestService(settings).ingest([folder]).added) == 2


def test_scanned_pdf_is_read_by_ocr_with_page_numbers(tmp_path: Path) -> None:
    assert ocr_available(), "`make test` installs Tesseract (tesseract-ocr, tesseract-ocr-deu)"
    path = tmp_path / "fax.pdf"
    _scanned_pdf(
        path, "Dienstanweisung Fax\nDie Frist für Widersprüche beträgt einen Monat.\nZuständig ist Raum 2.14."
    )
    doc = load_document(path)
    text = " ".join(b.text for b in doc.blocks)
    assert "Widersprüche" in text or "Widerspr" in text
    assert "Monat" in text
    assert {b.page for b in doc.blocks} == {1}


def test_scanned_pdf_without_tesseract_is_reported_not_indexed_empty(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "fax.pdf"
    _scanned_pdf(path, "Nur ein Bild")
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without the tesseract binary
    with pytest.raises(LoadError, match="kein Textlayer"):
        load_document(path)
