"""OpenDocument text (.odt, LibreOffice Writer): headings with their outline level, paragraphs,
list items and tables (one " | "-joined line per row), in document order."""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path

from odf import dc
from odf.element import Element, Node
from odf.namespaces import OFFICENS, TABLENS, TEXTNS
from odf.opendocument import OpenDocument, load
from odf.style import Style

from kreiswissen.schema import LoadedDocument

from .builder import BlockBuilder
from .errors import LoadError

# odfpy appends its own package folder to sys.path on import (a Python 2 leftover). Left there, a
# worker process started afterwards (it inherits sys.path) finds odf/text.py before this project's
# `text` package: every file read by such a worker failed. Its modules are loaded now; drop the entry.
_ODF_DIR = str(Path(dc.__file__).parent)
sys.path[:] = [p for p in sys.path if p != _ODF_DIR]

_ODT_MIMETYPE = "application/vnd.oasis.opendocument.text"  # also -template, -master
_KINDS = {
    "application/vnd.oasis.opendocument.spreadsheet": "eine Tabelle (ODS)",
    "application/vnd.oasis.opendocument.presentation": "eine Präsentation (ODP)",
    "application/vnd.oasis.opendocument.graphics": "eine Zeichnung (ODG)",
}
# Style names are stored with spaces encoded as "_20_": "Heading_20_2".
_HEADING_STYLE = re.compile(r"^Heading_20_(\d)$")
_TITLE_STYLE = "Title"

H = (TEXTNS, "h")
P = (TEXTNS, "p")
LIST = (TEXTNS, "list")
LIST_ITEMS = {(TEXTNS, "list-item"), (TEXTNS, "list-header")}
TABLE = (TABLENS, "table")
TABLE_ROW = (TABLENS, "table-row")
TABLE_CELL = (TABLENS, "table-cell")
TABLE_ROW_GROUPS = {
    (TABLENS, "table-header-rows"),
    (TABLENS, "table-rows"),
    (TABLENS, "table-row-group"),
}
# Generated or invisible content: tables of contents and indexes repeat the headings, tracked
# changes hold deleted text, comments are review notes.
_SKIP = {
    (TEXTNS, "table-of-content"),
    (TEXTNS, "alphabetical-index"),
    (TEXTNS, "illustration-index"),
    (TEXTNS, "table-index"),
    (TEXTNS, "object-index"),
    (TEXTNS, "user-index"),
    (TEXTNS, "bibliography"),
    (TEXTNS, "tracked-changes"),
    (TEXTNS, "sequence-decls"),
    (TEXTNS, "variable-decls"),
    (TEXTNS, "user-field-decls"),
    (TEXTNS, "note-citation"),
    (OFFICENS, "annotation"),
    (OFFICENS, "annotation-end"),
    (OFFICENS, "forms"),
}


def _text(node: Element) -> str:
    """The visible text of an element, whitespace collapsed."""
    parts: list[str] = []
    for child in node.childNodes:
        if child.nodeType == Node.TEXT_NODE:
            parts.append(str(child.data))
            continue
        if child.nodeType != Node.ELEMENT_NODE or child.qname in _SKIP:
            continue
        if child.qname == (TEXTNS, "s"):
            parts.append(" " * int(child.attributes.get((TEXTNS, "c"), 1) or 1))
        elif child.qname in {(TEXTNS, "tab"), (TEXTNS, "line-break")}:
            parts.append(" ")
        elif child.qname == (TEXTNS, "note"):  # footnote: its text in brackets where it is anchored
            parts.append(f" ({_text(child)}) ")
        elif child.qname in (P, H):
            parts.append(f" {_text(child)} ")
        else:
            parts.append(_text(child))
    return " ".join("".join(parts).split())


class _OdtReader:
    def __init__(self, document: OpenDocument) -> None:
        self.parents = {
            str(s.getAttribute("name")): str(s.getAttribute("parentstylename") or "")
            for s in document.automaticstyles.getElementsByType(Style)
        }
        titles = [_text(t) for t in document.meta.getElementsByType(dc.Title)]
        self.title = next((t for t in titles if t), "")
        body = [el for el in _elements(document.text) if el.qname in (H, P)]
        headings = [(self._heading_level(el), el) for el in body]
        headings = [(level, el) for level, el in headings if level]
        # Without any heading markup, numbered lines ("3.2 Eingangsstempel") are the headings.
        self.builder = BlockBuilder(detect_headings=not headings)
        # A document whose only top-level heading comes first uses it as its title.
        self.title_heading: Element | None = None
        top = [el for level, el in headings if level == 1]
        if not self.title and len(top) == 1 and headings[0][1] is top[0]:
            self.title_heading = top[0]

    def _style(self, el: Element) -> str:
        name = str(el.attributes.get((TEXTNS, "style-name"), "") or "")
        return self.parents.get(name) or name

    def _heading_level(self, el: Element) -> int:
        """Outline level of a heading (text:h, or a paragraph in a heading style); 0 for body text."""
        if el.qname == H:
            try:
                return max(1, int(el.attributes.get((TEXTNS, "outline-level"), 1)))
            except ValueError:
                return 1
        if m := _HEADING_STYLE.match(self._style(el)):
            return max(1, int(m.group(1)))
        return 0

    def paragraph(self, text: str) -> None:
        if self.builder.detect:
            self.builder.line(text)
            self.builder.line("")
        elif text:
            self.builder.paragraph(text)

    def walk(self, node: Element) -> None:
        for el in node.childNodes:
            if el.nodeType != Node.ELEMENT_NODE or el.qname in _SKIP:
                continue
            if el.qname in (H, P):
                self.text_element(el)
            elif el.qname == LIST:
                self.list(el)
            elif el.qname == TABLE:
                self.table(el)
            else:  # text:section, text:numbered-paragraph, frames, ...
                self.walk(el)

    def text_element(self, el: Element) -> None:
        text = _text(el)
        level = self._heading_level(el)
        if el is self.title_heading:
            self.title = text
        elif level and text:
            if not (level == 1 and text == self.title):
                self.builder.heading(level, text)
        elif self._style(el) == _TITLE_STYLE:
            self.title = self.title or text
        else:
            self.paragraph(text)

    def list(self, el: Element) -> None:
        for item in el.childNodes:
            if item.nodeType != Node.ELEMENT_NODE or item.qname not in LIST_ITEMS:
                continue
            first = True
            for child in item.childNodes:
                if child.nodeType != Node.ELEMENT_NODE:
                    continue
                if child.qname == LIST:
                    self.list(child)
                elif child.qname in (H, P):
                    text = _text(child)
                    if text:
                        self.paragraph(f"• {text}" if first else text)
                        first = False
                elif child.qname == TABLE:
                    self.table(child)

    def table(self, el: Element) -> None:
        for row in _rows(el):
            cells = [
                _text(c) for c in row.childNodes if c.nodeType == Node.ELEMENT_NODE and c.qname == TABLE_CELL
            ]
            cells = [c for c in cells if c]
            if cells:
                self.builder.paragraph(" | ".join(cells))


def _elements(node: Element):
    """All elements below node in document order, outside skipped parts."""
    for child in node.childNodes:
        if child.nodeType == Node.ELEMENT_NODE and child.qname not in _SKIP:
            yield child
            yield from _elements(child)


def _rows(table: Element):
    for child in table.childNodes:
        if child.nodeType != Node.ELEMENT_NODE:
            continue
        if child.qname == TABLE_ROW:
            yield child
        elif child.qname in TABLE_ROW_GROUPS:
            yield from _rows(child)


def _check_archive(path: Path) -> None:
    if not zipfile.is_zipfile(path):
        raise LoadError("Keine gültige ODT-Datei (kein OpenDocument-Archiv)")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        mimetype = archive.read("mimetype").decode("ascii", "replace").strip() if "mimetype" in names else ""
        manifest = archive.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in names else b""
    if mimetype and not mimetype.startswith(_ODT_MIMETYPE):
        kind = _KINDS.get(mimetype, f"vom Typ {mimetype}")
        raise LoadError(f"Keine ODT-Textdatei: der Inhalt ist {kind}")
    if b"encryption-data" in manifest:
        raise LoadError("ODT-Datei ist passwortgeschützt")
    if "content.xml" not in names:
        raise LoadError("Keine gültige ODT-Datei (Archiv enthält kein content.xml)")


def load_odt(path: Path) -> LoadedDocument:
    _check_archive(path)
    try:
        document = load(str(path))
    except Exception as exc:
        raise LoadError(f"Keine gültige ODT-Datei (Inhalt nicht lesbar, {type(exc).__name__})") from exc
    if not str(document.mimetype).startswith(_ODT_MIMETYPE):
        raise LoadError("Keine ODT-Textdatei (OpenDocument-Inhalt ist kein Text)")
    reader = _OdtReader(document)
    reader.walk(document.text)
    reader.builder.flush()
    return LoadedDocument(path=str(path), title=reader.title or path.stem, blocks=reader.builder.blocks)
