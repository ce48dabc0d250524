"""Excel (.xlsx) and OpenDocument text (.odt): real files built in the test, loaded and ingested."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from odf import dc, office
from odf import text as odftext
from odf.opendocument import OpenDocumentSpreadsheet, OpenDocumentText
from odf.style import Style
from odf.table import Table, TableCell, TableColumn, TableRow

from ingest.chunker import chunk_document
from ingest.loaders import LoadError, load_document
from ingest.loaders.xlsx_loader import MAX_CHARS, MAX_ROWS
from ingest.service import IngestService
from kreiswissen.settings import Settings
from tests.conftest import CORPUS

# -- builders ----------------------------------------------------------------------------------


def make_xlsx(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    workbook.properties.title = "Gebührenverzeichnis Zulassungsstelle"

    fees = workbook.active
    fees.title = "Gebühren"
    fees.append(["Nr", "Art", "EUR"])
    for n in range(1, 61):  # data rows 2–61: short rows, so blocks are cut by MAX_ROWS
        fees.append([n, f"L{n}", 10 + n / 4])
    fees["B20"] = "Zulassung eines Gebrauchtwagens"
    fees["C20"] = 26.3
    fees["D20"] = "=C20*2"  # a formula without a cached value: data_only gives no formula text

    deadlines = workbook.create_sheet("Fristen")
    # Header not in row 1, a blank row inside the data, long rows (cut by MAX_CHARS), dates, flags.
    deadlines["A3"], deadlines["B3"], deadlines["C3"], deadlines["D3"] = "Vorgang", "Frist", "Ab", "Eilig"
    for i, row in enumerate(r for r in range(4, 15) if r != 8):  # data in rows 4–14, row 8 empty
        deadlines.cell(row, 1, f"Vorgang {i} " + "mit ausführlicher Beschreibung " * 6)
        deadlines.cell(row, 2, f"{i + 1} Wochen")
        deadlines.cell(row, 3, dt.datetime(2024, 1, 2 + i))
        deadlines.cell(row, 4, i % 2 == 0)

    workbook.create_sheet("Leer")
    note = workbook.create_sheet("Hinweis")
    note["A1"] = "Stand: Januar 2024"
    workbook.save(path)
    return path


def make_odt(path: Path) -> Path:
    document = OpenDocumentText()
    document.meta.addElement(dc.Title(text="Dienstanweisung Aktenführung"))
    title_style = Style(name="P1", family="paragraph", parentstylename="Title")
    document.automaticstyles.addElement(title_style)
    body = document.text
    body.addElement(odftext.P(stylename=title_style, text="Dienstanweisung Aktenführung"))

    toc = odftext.TableOfContent(name="Inhaltsverzeichnis")
    toc_body = odftext.IndexBody()
    toc_body.addElement(odftext.P(text="1 Zweck ..... 1"))
    toc.addElement(toc_body)
    body.addElement(toc)

    body.addElement(odftext.H(outlinelevel=1, text="1 Zweck"))
    para = odftext.P(text="Die Akte ist vollständig zu führen.")
    comment = office.Annotation()
    comment.addElement(odftext.P(text="Interne Randnotiz"))
    para.addElement(comment)
    note = odftext.Note(noteclass="footnote", id="ftn1")
    note.addElement(odftext.NoteCitation(text="1"))
    note_body = odftext.NoteBody()
    note_body.addElement(odftext.P(text="Siehe Registraturplan."))
    note.addElement(note_body)
    para.addElement(note)
    body.addElement(para)

    body.addElement(odftext.H(outlinelevel=2, text="1.1 Geltungsbereich"))
    spaced = odftext.P(text="Gilt für alle")
    spaced.addElement(odftext.S(c=3))
    spaced.addText("Ämter des Landkreises.")
    body.addElement(spaced)
    items = odftext.List()
    for label in ("Personalakten", "Bauakten"):
        item = odftext.ListItem()
        item.addElement(odftext.P(text=label))
        items.addElement(item)
    body.addElement(items)

    body.addElement(odftext.H(outlinelevel=1, text="2 Aufbewahrung"))
    section = odftext.Section(name="Fristen")
    section.addElement(odftext.P(text="Aufbewahrungsfristen nach Aktenart:"))
    table = Table(name="Fristen")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    for cells in (("Aktenart", "Frist"), ("Personalakte", "10 Jahre"), ("Bauakte", "dauernd")):
        row = TableRow()
        for value in cells:
            cell = TableCell()
            cell.addElement(odftext.P(text=value))
            row.addElement(cell)
        table.addElement(row)
    section.addElement(table)
    body.addElement(section)
    document.save(str(path))
    return path


# -- xlsx --------------------------------------------------------------------------------------


def test_xlsx_sheets_become_sections_with_row_ranges(tmp_path: Path) -> None:
    doc = load_document(make_xlsx(tmp_path / "gebuehren.xlsx"))
    assert doc.title == "Gebührenverzeichnis Zulassungsstelle"
    sections = [b.headings for b in doc.blocks]
    fees = [h[1] for h in sections if h[0] == "Tabellenblatt Gebühren"]
    assert fees == ["Zeilen 2–26", "Zeilen 27–51", "Zeilen 52–61"]
    assert all(len(h) == 2 for h in sections)
    assert "Tabellenblatt Leer" not in {h[0] for h in sections}
    assert ("Tabellenblatt Hinweis", "Zeile 1") in sections

    by_section = {b.headings: b.text for b in doc.blocks}
    first = by_section[("Tabellenblatt Gebühren", "Zeilen 2–26")]
    rows = first.split("\n\n")
    assert len(rows) == MAX_ROWS
    # Every row repeats the header as "Spalte: Wert" pairs, numbers with a decimal comma.
    assert rows[0] == "Nr: 1 | Art: L1 | EUR: 10,25"
    assert "Nr: 19 | Art: Zulassung eines Gebrauchtwagens | EUR: 26,3" in rows
    assert "=C20" not in first


def test_xlsx_long_rows_are_cut_by_size_and_keep_real_row_numbers(tmp_path: Path) -> None:
    doc = load_document(make_xlsx(tmp_path / "gebuehren.xlsx"))
    blocks = [b for b in doc.blocks if b.headings[0] == "Tabellenblatt Fristen"]
    assert len(blocks) > 2, "rows of ~200 characters must not all land in one block"
    assert all(len(b.text) <= MAX_CHARS for b in blocks)
    # Header in row 3, data in rows 4–14 with row 8 empty: the ranges name the sheet's real rows;
    # rows of ~250 characters fit three to a block.
    assert [b.headings[1] for b in blocks] == ["Zeilen 4–6", "Zeilen 7–10", "Zeilen 11–13", "Zeile 14"]
    assert blocks[1].text.split("\n\n")[1].startswith("Vorgang: Vorgang 4 ")  # row 9, after the gap
    text = "\n".join(b.text for b in blocks)
    assert "Vorgang: Vorgang 0 mit ausführlicher" in text
    assert "Frist: 1 Wochen | Ab: 02.01.2024 | Eilig: ja" in text
    assert "Eilig: nein" in text
    assert text.count("Vorgang: ") == 10


def test_xlsx_chunks_are_self_explanatory(tmp_path: Path) -> None:
    chunks = chunk_document(load_document(make_xlsx(tmp_path / "gebuehren.xlsx")))
    sheet_chunks = [c for c in chunks if c.section.startswith("Tabellenblatt Gebühren")]
    assert [c.section.split(" › ")[-1] for c in sheet_chunks] == [
        "Zeilen 2–26",
        "Zeilen 27–51",
        "Zeilen 52–61",
    ]
    for chunk in chunks:
        if chunk.section.startswith("Tabellenblatt Fristen"):
            assert all(line.startswith("Vorgang: ") for line in chunk.text.splitlines() if line)


# -- odt ---------------------------------------------------------------------------------------


def test_odt_headings_paragraphs_lists_and_tables(tmp_path: Path) -> None:
    doc = load_document(make_odt(tmp_path / "aktenfuehrung.odt"))
    assert doc.title == "Dienstanweisung Aktenführung"
    by_section = {b.headings: b.text for b in doc.blocks}
    assert list(by_section) == [("1 Zweck",), ("1 Zweck", "1.1 Geltungsbereich"), ("2 Aufbewahrung",)]
    assert by_section[("1 Zweck",)] == "Die Akte ist vollständig zu führen. (Siehe Registraturplan.)"
    assert by_section[("1 Zweck", "1.1 Geltungsbereich")].split("\n\n") == [
        "Gilt für alle Ämter des Landkreises.",
        "• Personalakten",
        "• Bauakten",
    ]
    assert by_section[("2 Aufbewahrung",)].split("\n\n") == [
        "Aufbewahrungsfristen nach Aktenart:",
        "Aktenart | Frist",
        "Personalakte | 10 Jahre",
        "Bauakte | dauernd",
    ]
    everything = " ".join(b.text for b in doc.blocks)
    assert "Randnotiz" not in everything  # comments are not content
    assert "....." not in everything  # the table of contents is not indexed


def test_odt_without_heading_markup_detects_numbered_headings(tmp_path: Path) -> None:
    document = OpenDocumentText()
    for line in ("1 Allgemeines", "Dieser Text gilt.", "2 Verfahren", "Anträge sind schriftlich zu stellen."):
        document.text.addElement(odftext.P(text=line))
    document.save(str(tmp_path / "ohne.odt"))
    doc = load_document(tmp_path / "ohne.odt")
    assert doc.title == "ohne"
    assert [(b.headings, b.text) for b in doc.blocks] == [
        (("1 Allgemeines",), "Dieser Text gilt."),
        (("2 Verfahren",), "Anträge sind schriftlich zu stellen."),
    ]


# -- bad files ---------------------------------------------------------------------------------


def _docx_renamed(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copy(next(iter(sorted(CORPUS.glob("*.docx")))), target)
    return target


def _ods(tmp_path: Path, name: str) -> Path:
    document = OpenDocumentSpreadsheet()
    document.save(str(tmp_path / name))
    return tmp_path / name


def _zip_without_content(tmp_path: Path, name: str) -> Path:
    with zipfile.ZipFile(tmp_path / name, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("README.txt", "nichts")
    return tmp_path / name


def _not_a_zip(tmp_path: Path, name: str) -> Path:
    (tmp_path / name).write_bytes(b"\xd0\xcf\x11\xe0 altes Office-Format")
    return tmp_path / name


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("alt.xlsx", _not_a_zip, "Keine gültige Excel-Datei (kein XLSX-Archiv"),
        ("brief.xlsx", _docx_renamed, "Keine gültige Excel-Datei (Inhalt ist keine XLSX-Arbeitsmappe"),
        ("alt.odt", _not_a_zip, "Keine gültige ODT-Datei (kein OpenDocument-Archiv)"),
        ("tabelle.odt", _ods, "Keine ODT-Textdatei: der Inhalt ist eine Tabelle (ODS)"),
        ("leer.odt", _zip_without_content, "Keine gültige ODT-Datei (Archiv enthält kein content.xml)"),
        ("brief.odt", _docx_renamed, "Keine gültige ODT-Datei"),
    ],
)
def test_bad_office_files_raise_german_reason(tmp_path: Path, name: str, make, reason: str) -> None:
    path = make(tmp_path, name)
    with pytest.raises(LoadError) as err:
        load_document(path)
    assert str(err.value).startswith(reason)


# -- ingest ------------------------------------------------------------------------------------


def test_ingest_folder_with_office_files(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "ablage"
    folder.mkdir()
    make_xlsx(folder / "gebuehren.xlsx")
    make_odt(folder / "aktenfuehrung.odt")
    _not_a_zip(folder, "kaputt.xlsx")
    service = IngestService(settings)
    report = service.ingest([folder], collection="Ablage")
    assert sorted(Path(p).name for p in report.added) == ["aktenfuehrung.odt", "gebuehren.xlsx"]
    assert [Path(p).name for p, _ in report.failed] == ["kaputt.xlsx"]

    chunks = service.store.catalog.chunks("Ablage")
    xlsx = [c for c in chunks if c.doc_id == "gebuehren"]
    odt = [c for c in chunks if c.doc_id == "aktenfuehrung"]
    expected = [c.section for c in chunk_document(load_document(folder / "gebuehren.xlsx"))]
    assert [c.section for c in xlsx] == expected
    assert expected[:3] == [
        "Tabellenblatt Gebühren › Zeilen 2–26",
        "Tabellenblatt Gebühren › Zeilen 27–51",
        "Tabellenblatt Gebühren › Zeilen 52–61",
    ]
    assert xlsx[-1].section == "Tabellenblatt Hinweis › Zeile 1"
    assert all(c.title == "Gebührenverzeichnis Zulassungsstelle" and c.page is None for c in xlsx)
    zulassung = next(c for c in xlsx if "Gebrauchtwagens" in c.text)
    assert (
        zulassung.heading_line
        == "Gebührenverzeichnis Zulassungsstelle › Tabellenblatt Gebühren › Zeilen 2–26"
    )
    assert [c.section for c in odt] == ["1 Zweck", "1 Zweck › 1.1 Geltungsbereich", "2 Aufbewahrung"]
    assert service.store.vector_ids("Ablage") == {c.id for c in chunks}
    assert report.chunks_added == len(chunks) == len(xlsx) + len(odt)
