"""Excel workbooks (.xlsx): every sheet a section, its rows in blocks that each name their row range.

The first non-empty row of a sheet is its header row. Every data row is written as "Spalte: Wert"
pairs, so any chunk cut from a sheet explains itself; a block's heading ("Zeilen 2–26") lets a
citation name sheet and rows.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterable
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter

from kreiswissen.schema import LoadedDocument

from .builder import BlockBuilder
from .errors import LoadError

# A block holds at most this many data rows ...
MAX_ROWS = 25
# ... and about this many characters, so that a block stays one chunk (default chunk size 1200)
# and its row range in the heading stays exact.
MAX_CHARS = 1000


def format_value(value: object) -> str:
    """A cell value as a German reader expects it (decimal comma, dd.mm.yyyy, ja/nein)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return f"{value:.10g}".replace(".", ",")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.strftime("%d.%m.%Y")
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return " ".join(str(value).split())


def _row_range(first: int, last: int) -> str:
    return f"Zeile {first}" if first == last else f"Zeilen {first}–{last}"


def _row_text(header: list[str], values: list[str]) -> str:
    pairs = []
    for col, value in enumerate(values):
        if not value:
            continue
        name = header[col] if col < len(header) and header[col] else f"Spalte {get_column_letter(col + 1)}"
        pairs.append(f"{name}: {value}")
    return " | ".join(pairs)


def _blocks(rows: list[tuple[int, str]]) -> Iterable[list[tuple[int, str]]]:
    """Consecutive data rows grouped by MAX_ROWS and MAX_CHARS (a single long row is a block)."""
    block: list[tuple[int, str]] = []
    size = 0
    for number, text in rows:
        if block and (len(block) >= MAX_ROWS or size + len(text) > MAX_CHARS):
            yield block
            block, size = [], 0
        block.append((number, text))
        size += len(text) + 2  # rows are separated by a blank line
    if block:
        yield block


def _add_sheet(builder: BlockBuilder, name: str, sheet_rows: Iterable[tuple]) -> None:
    header: list[str] | None = None
    header_number = 0
    data: list[tuple[int, str]] = []
    for number, row in enumerate(sheet_rows, start=1):
        values = [format_value(v) for v in row]
        if not any(values):
            continue
        if header is None:
            header, header_number = values, number
            continue
        data.append((number, _row_text(header, values)))
    if header is None:
        return  # empty sheet
    builder.heading(1, f"Tabellenblatt {name}")
    if not data:  # a single row: no header to speak of, keep it as a line of text
        builder.heading(2, _row_range(header_number, header_number))
        builder.paragraph(" | ".join(v for v in header if v))
        return
    for block in _blocks(data):
        builder.heading(2, _row_range(block[0][0], block[-1][0]))
        for _, text in block:
            builder.paragraph(text)


def load_xlsx(path: Path) -> LoadedDocument:
    if not zipfile.is_zipfile(path):
        raise LoadError(
            "Keine gültige Excel-Datei (kein XLSX-Archiv; passwortgeschützte Arbeitsmappen und "
            "das alte .xls-Format werden nicht unterstützt)"
        )
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise LoadError(
            f"Keine gültige Excel-Datei (Inhalt ist keine XLSX-Arbeitsmappe, {type(exc).__name__})"
        ) from exc
    try:
        title = (workbook.properties.title or "").strip()
        builder = BlockBuilder()
        for sheet in workbook.worksheets:
            # Some generators write a wrong sheet dimension ("A1"); read every cell there is.
            sheet.reset_dimensions()
            _add_sheet(builder, sheet.title, sheet.iter_rows(min_row=1, values_only=True))
        builder.flush()
    finally:
        workbook.close()
    return LoadedDocument(path=str(path), title=title or path.stem, blocks=builder.blocks)
