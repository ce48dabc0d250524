"""Ruled tables in PDFs (pdfplumber): every row is written with its column headers,
"Straße: Ahornweg | Restmüll 14-täglich: 2 | …", so that a chunk holding row 57 still says what
its cells mean. pypdf reads such tables as loose cell text without any header."""

from __future__ import annotations

import logging
from pathlib import Path

import pdfplumber

from ..structure import join_hyphenated

log = logging.getLogger(__name__)

Cells = list[str | None]
_MAX_HEADER_ROWS = 3


def _cell(text: str | None) -> str:
    return " ".join(join_hyphenated(text or "").split())


def _filled(row: Cells) -> int:
    return sum(bool(_cell(c)) for c in row)


def _labels(header: list[Cells]) -> list[str]:
    """Column labels of a one- or multi-level header; None marks a merged cell."""
    width = len(header[0])
    parts: list[list[str]] = [[] for _ in range(width)]
    for r, row in enumerate(header):
        for c, cell in enumerate(row):
            # In the top row a merged cell spans columns: it labels the cells to its right too.
            text = _cell(row[c - 1] if cell is None and r == 0 and c else cell)
            if cell is None and r == 0 and c and parts[c - 1]:
                text = parts[c - 1][0]
            if text and text not in parts[c]:
                parts[c].append(text)
    return [" ".join(p) for p in parts]


def render_table(rows: list[Cells]) -> list[str] | None:
    """Lines for one table, or None when it has no header row and body (a frame, not a table)."""
    rows = [r for r in rows if _filled(r)]
    if not rows or len(rows[0]) < 2:
        return None
    width = len(rows[0])
    # The header is the first row filled more than half; rows above it are the table's caption.
    start = next((i for i, r in enumerate(rows[:4]) if 2 * _filled(r) > width), None)
    if start is None:
        return None
    end = start + 1
    # Further header levels show merged cells (None), data rows do not.
    while end < len(rows) and end - start < _MAX_HEADER_ROWS and None in rows[end]:
        end += 1
    if end >= len(rows):
        return None
    labels = _labels(rows[start:end])
    lines = [" ".join(_cell(c) for c in r if _cell(c)) for r in rows[:start]]
    for row in rows[end:]:
        cells = [(label, _cell(c)) for label, c in zip(labels, row, strict=False)]
        lines.append(" | ".join(f"{label}: {text}" if label else text for label, text in cells if text))
    return lines


def _inside(obj: dict, box: tuple[float, float, float, float]) -> bool:
    x, y = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _band_text(page, top: float, bottom: float) -> str:
    if bottom - top < 1:
        return ""
    x0, _, x1, _ = page.bbox
    return page.crop((x0, top, x1, bottom)).extract_text() or ""


def _page_with_tables(page) -> str | None:
    found = []
    for table in page.find_tables():
        if (lines := render_table(table.extract())) is not None:
            found.append((table.bbox, lines))
    # A table drawn inside another table's cell is already part of that cell's text.
    found = [(b, ls) for b, ls in found if not any(o != b and _inside(_box(b), o) for o, _ in found)]
    if not found:
        return None
    found.sort(key=lambda f: f[0][1])
    rest = page.filter(lambda o: not any(_inside(o, b) for b, _ in found) if "x0" in o else True)
    parts, top = [], page.bbox[1]
    for box, lines in found:
        parts.append(_band_text(rest, top, box[3]))  # text above and beside the table
        parts.extend(lines)
        top = box[3]
    parts.append(_band_text(rest, top, page.bbox[3]))
    return "\n".join(p for p in parts if p)


def _box(b: tuple[float, float, float, float]) -> dict:
    return {"x0": b[0], "top": b[1], "x1": b[2], "bottom": b[3]}


def table_pages(path: Path, pages: set[int]) -> dict[int, str]:
    """Page index → page text with its tables as header-labelled rows, for the given pages that hold one."""
    out: dict[int, str] = {}
    try:
        with pdfplumber.open(str(path)) as pdf:
            for i in sorted(pages):
                if (text := _page_with_tables(pdf.pages[i])) is not None:
                    out[i] = text
    except Exception as exc:  # pdfminer trips over PDFs pypdf reads: keep pypdf's text then
        log.warning("%s: table extraction failed (%s)", path, exc)
    return out
