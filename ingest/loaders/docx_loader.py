from __future__ import annotations

import re
import zipfile
from pathlib import Path

import docx
from docx.document import Document as DocxDocument
from docx.table import Table
from docx.text.paragraph import Paragraph

from kreiswissen.schema import LoadedDocument

from .builder import BlockBuilder
from .errors import LoadError

# English and German Word style names ("Heading 2", "Überschrift 2").
_HEADING_STYLE = re.compile(r"^(?:Heading|Überschrift)\s*(\d)$", re.I)


def _iter_body(document: DocxDocument):
    """Paragraphs and tables in document order."""
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            yield Paragraph(child, document)
        elif tag == "tbl":
            yield Table(child, document)


def load_docx(path: Path) -> LoadedDocument:
    if not zipfile.is_zipfile(path):
        raise LoadError("Keine gültige DOCX-Datei (kein Office-Open-XML-Archiv)")
    try:
        document = docx.Document(str(path))
    except Exception as exc:
        raise LoadError(f"Keine gültige DOCX-Datei ({type(exc).__name__})") from exc
    title = (document.core_properties.title or "").strip()
    styled = any(p.style is not None and _HEADING_STYLE.match(p.style.name) for p in document.paragraphs)
    # Documents without heading styles still number their sections: detect those from the text.
    builder = BlockBuilder(detect_headings=not styled)
    for item in _iter_body(document):
        if isinstance(item, Table):
            for row in item.rows:
                cells: list[str] = []
                for cell in row.cells:
                    text = cell.text.strip()
                    if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                        cells.append(text)
                builder.line(" | ".join(cells))
            builder.line("")
            continue
        text = item.text.strip()
        if not text:
            builder.line("")
            continue
        style = item.style.name if item.style is not None else ""
        if style == "Title":
            title = title or text
            continue
        if m := _HEADING_STYLE.match(style):
            level = int(m.group(1))
            if level == 1 and not title:
                title = text
                continue
            builder.heading(level, text)
            continue
        builder.line(text)
        builder.line("")
    builder.flush()
    return LoadedDocument(path=str(path), title=title or path.stem, blocks=builder.blocks)
