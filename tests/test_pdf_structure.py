"""PDF structure on real files: list items and tariff rows are no headings, OCR'd § marks and
titles on the next line make proper headings, and table rows keep their column headers."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ingest.chunker import chunk_document
from ingest.loaders.builder import BlockBuilder
from ingest.loaders.pdf_loader import load_pdf
from ingest.loaders.pdf_tables import table_pages
from ingest.structure import HeadingDetector
from kreiswissen.schema import Chunk

ROOT = Path(__file__).parents[1]
DEV = ROOT.parent / "shared" / "pdfs-dev"

logging.getLogger("pypdf").setLevel(logging.ERROR)


def _chunks(path: Path) -> list[Chunk]:
    if not path.exists():
        pytest.skip(f"{path} fehlt")
    return chunk_document(load_pdf(path))


def _section_of(chunks: list[Chunk], text: str) -> str:
    return next(c.section for c in chunks if text in c.text)


def test_numbered_list_items_inside_a_paragraph_are_not_headings() -> None:
    # § 4 lists the departments "1. Einsatzabteilung" … "4. Kinderfeuerwehr"; before the fix
    # "4. Kinderfeuerwehr" headed §§ 5-22.
    chunks = _chunks(DEV / "waldems_feuerwehrsatzung_2024.pdf")
    assert _section_of(chunks, "4. Kinderfeuerwehr") == "§ 4 GLIEDERUNG DER FREIWILLIGEN FEUERWEHR"
    assert not [c.section for c in chunks if c.section[:1].isdigit()]
    # the rate rows of § 5 Haushaltssatzung ("1. Grundsteuer", "2. Gewerbesteuer 390 v. H.")
    chunks = _chunks(DEV / "nordstemmen_haushaltssatzung_2022_ds121.pdf")
    assert _section_of(chunks, "Gewerbesteuer 390 v. H.") == "§ 5"


def test_tariff_rows_with_amounts_are_not_headings() -> None:
    # Rows of the fee table in corpus/handbuch-kfz-zulassung.pdf (section "6 Gebühren"), numbered
    # as a tariff numbers them; the outline around them still counts.
    d = HeadingDetector()
    assert d.detect("1 Allgemeines")
    assert d.detect("1 Neuzulassung 30,20 €") is None
    assert d.detect("2 Neuzulassung 30,20") is None
    assert d.detect("2 Schmutzwassergebühren 1.899.000") is None
    assert d.detect("2 Neuzulassung | 30,20 €") is None
    assert d.detect("2 Neuzulassung") == (1, "2 Neuzulassung")
    sections = {c.section for c in _chunks(ROOT / "corpus" / "handbuch-kfz-zulassung.pdf")}
    assert "6 Gebühren" in sections
    assert (
        "3 Umschreibung von Gebrauchtfahrzeugen › 3.1 Erforderliche Unterlagen bei Halterwechsel" in sections
    )


def test_ocr_paragraph_marks_become_paragraph_headings() -> None:
    # Tesseract (deu, 100 dpi) on erlangen_satzung_orts_stadtteilbeiraete_2026.pdf pp. 2-3.
    d = HeadingDetector()
    ocr = ["$ 1Örtliche Zuständigkeit", "$2 Aufgaben und Rechte", "53 Zusammensetzung", "$4 Vorsitz"]
    ocr += ["55 Ehrenamt, Entschädigung", "56 Geschäftsgang", "$ 7 Amtszeit", "$8 Inkrafttreten"]
    found = [d.detect(line) for line in ocr]
    assert [f[1] if f else None for f in found] == [
        "§ 1 Örtliche Zuständigkeit",
        "§ 2 Aufgaben und Rechte",
        "§ 3 Zusammensetzung",
        "§ 4 Vorsitz",
        "§ 5 Ehrenamt, Entschädigung",
        "§ 6 Geschäftsgang",
        "§ 7 Amtszeit",
        "§ 8 Inkrafttreten",
    ]
    # a digit read for "§" only counts where that § comes next (richtlinie-reisekosten.pdf p. 2)
    assert HeadingDetector().detect("86 Tagegeld") is None
    assert HeadingDetector().detect("& 4 Wahl des Verkehrsmittels") == (2, "§ 4 Wahl des Verkehrsmittels")


def test_ocr_paragraph_with_title_on_the_next_line() -> None:
    # Tesseract (deu, 100 dpi) on waldems_feuerwehrsatzung_2024.pdf pp. 1-2: "§ 2" came out as "82".
    lines = ["$1", "GLEICHSTELLUNGSBESTIMMUNG", "", "Die in dieser Satzung genannten Personen-"]
    lines += ["82", "ORGANISATION, BEZEICHNUNG", "", "(1) Die Freiwillige Feuerwehr", "83", "AUFGABEN DER"]
    lines += ["FREIWILLIGEN FEUERWEHR", "", "Die Aufgaben der Freiwilligen Feuerwehr", "(2)", "", "54"]
    lines += ["Die Freiwillige Feuerwehr Waldems gliedert sich in folgende Abteilungen"]
    builder = BlockBuilder(detect_headings=True)
    for line in lines:
        builder.line(line)
    builder.flush()
    assert [b.headings for b in builder.blocks] == [
        ("§ 1 GLEICHSTELLUNGSBESTIMMUNG",),
        ("§ 2 ORGANISATION, BEZEICHNUNG",),
        ("§ 3 AUFGABEN DER FREIWILLIGEN FEUERWEHR",),
        ("§ 3 AUFGABEN DER FREIWILLIGEN FEUERWEHR",),  # "54" without a title stays text
    ]
    assert builder.blocks[-1].text.endswith(
        "54\nDie Freiwillige Feuerwehr Waldems gliedert sich in folgende Abteilungen"
    )


def test_paragraph_title_on_the_next_line_is_joined() -> None:
    sections = {c.section for c in _chunks(DEV / "waldems_feuerwehrsatzung_2024.pdf")}
    assert "§ 6 AUFNAHME IN DIE EINSATZABTEILUNG DER FREIWILLIGEN FEUERWEHR" in sections
    assert "§ 1" not in sections
    chunks = _chunks(DEV / "nordstemmen_ratsprotokoll_2021-12-21.pdf")
    assert _section_of(chunks, "Die Einzugsbereiche für die Grundschulen").endswith("§ 2 Einzugsbereiche")
    # no title: the sentence after "§ 1" stays body text
    chunks = _chunks(DEV / "nordstemmen_haushaltssatzung_2022_ds121.pdf")
    assert _section_of(chunks, "Der Haushaltsplan für das Haushaltsjahr 2022 wird") == "§ 1"


def test_table_rows_carry_their_column_headers() -> None:
    # two-level header repeated on every page; the rows without it read "Ahornweg A 2 2 2 1 2 MO"
    chunks = _chunks(DEV / "giessen_strassenverzeichnis_abfuhr_2014.pdf")
    rows = [ln for c in chunks for ln in c.text.splitlines() if ln.startswith("Straße: Ahornweg |")]
    assert rows == [
        "Straße: Ahornweg | Restmüll Sparvolumen 4wöchentlich: A | Restmüll 14-täglich: 2 | "
        "Altpapier 4-wöchentl.: 2 | Gelber Sack 2- bzw. 4- wöchentl.: 2 | Bio/Astwerk wöchentl.: 1 | "
        "Sperrmüll 1 mal im Monat: 2 | Abfuhrkalendertag: MO"
    ]
    last = [c for c in chunks if c.page == 12]
    assert last and all("Abfuhrkalendertag: " in c.text for c in last)
    # landscape table, one header row
    path = DEV / "muenchen_por_bericht_beschlussvollzugskontrolle_2019.pdf"
    text = table_pages(path, {5})[5]
    assert "Lfd. Nr.: 3 | Beschlussnummer: 14-20 / V 04095 | Beschlossen am VPA/VV: 17.02.2016/" in text
