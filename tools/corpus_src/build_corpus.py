#!/usr/bin/env python3
"""Rebuild the binary sample documents (PDF, DOCX) of corpus/ from text sources.

Usage (from the repository root):

    python tools/corpus_src/build_corpus.py

Sources live in tools/corpus_src/docs/<stem>.<pdf|docx>.txt and use a small
line-based markup:

    # Title                      document title (first line)
    > meta line                  subtitle / metadata line(s) below the title
    ## 1 Heading                 section heading (level 1), also "## § 1 Heading"
    ### 2.1 Heading              subsection heading (level 2)
    - item                       bullet list item
    | a | b | c |                table row (first row = header)
    (blank line)                 paragraph separator

Plain paragraphs may span several source lines; they are joined by spaces.
The Markdown, HTML and plain-text documents in corpus/ are maintained by hand
and are not generated.

Dev-only dependencies: reportlab (PDF), python-docx (DOCX).
Output is deterministic: reportlab runs in "invariant" mode (fixed dates and
document id) and DOCX packages are rewritten with fixed zip timestamps and
fixed core properties.
"""
from __future__ import annotations

import datetime as _dt
import io
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC_DIR = HERE / "docs"
ROOT = HERE.parent.parent
OUT_DIR = ROOT / "corpus"

AUTHOR = "Kreisverwaltung Falkenried"
FIXED_DT = _dt.datetime(2024, 1, 1, 0, 0, 0)


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------
def parse(path: Path) -> dict:
    """Parse a source file into {'title', 'meta', 'blocks'}.

    blocks: list of tuples
        ('h1', text) | ('h2', text) | ('p', text) | ('ul', [items]) | ('table', [[cells]])
    """
    title = None
    meta: list[str] = []
    blocks: list[tuple] = []
    para: list[str] = []
    bullets: list[str] = []
    table: list[list[str]] = []

    def flush() -> None:
        nonlocal para, bullets, table
        if para:
            blocks.append(("p", " ".join(para)))
            para = []
        if bullets:
            blocks.append(("ul", bullets))
            bullets = []
        if table:
            blocks.append(("table", table))
            table = []

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.rstrip()
        if not line.strip():
            flush()
            continue
        if line.startswith("### "):
            flush()
            blocks.append(("h2", line[4:].strip()))
        elif line.startswith("## "):
            flush()
            blocks.append(("h1", line[3:].strip()))
        elif line.startswith("# "):
            flush()
            title = line[2:].strip()
        elif line.startswith("> "):
            flush()
            meta.append(line[2:].strip())
        elif line.startswith("- "):
            if para or table:
                flush()
            bullets.append(line[2:].strip())
        elif line.startswith("|"):
            if para or bullets:
                flush()
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            table.append(cells)
        else:
            if bullets or table:
                flush()
            para.append(line.strip())
    flush()
    if not title:
        raise ValueError(f"{path}: missing '# Title' line")
    return {"title": title, "meta": meta, "blocks": blocks}


def _short(title: str, limit: int = 60) -> str:
    """Shorten a title at a word boundary for the page footer."""
    if len(title) <= limit:
        return title
    cut = title[:limit].rsplit(" ", 1)[0]
    return cut + " …"


# --------------------------------------------------------------------------
# PDF (reportlab)
# --------------------------------------------------------------------------
def build_pdf(doc: dict, out: Path) -> None:
    from reportlab import rl_config

    rl_config.invariant = 1  # fixed creation date and document id
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_LEFT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.pdfgen import canvas as rl_canvas
    from reportlab.platypus import (KeepTogether, Paragraph, SimpleDocTemplate, Spacer,
                                    Table, TableStyle)
    from xml.sax.saxutils import escape

    base = ParagraphStyle("base", fontName="Helvetica", fontSize=10.5,
                          leading=14.5, alignment=TA_LEFT, spaceAfter=6)
    st_title = ParagraphStyle("title", parent=base, fontName="Helvetica-Bold",
                              fontSize=17, leading=21, spaceAfter=8)
    st_meta = ParagraphStyle("meta", parent=base, fontName="Helvetica-Oblique",
                             fontSize=9.5, leading=12.5, spaceAfter=2,
                             textColor=colors.HexColor("#333333"))
    st_h1 = ParagraphStyle("h1", parent=base, fontName="Helvetica-Bold",
                           fontSize=13.5, leading=17, spaceBefore=12, spaceAfter=6)
    st_h2 = ParagraphStyle("h2", parent=base, fontName="Helvetica-Bold",
                           fontSize=11.5, leading=15, spaceBefore=8, spaceAfter=4)
    st_item = ParagraphStyle("item", parent=base, leftIndent=16, bulletIndent=4,
                             spaceAfter=3)
    st_cell = ParagraphStyle("cell", parent=base, fontSize=9.5, leading=12, spaceAfter=0)
    st_cell_h = ParagraphStyle("cellh", parent=st_cell, fontName="Helvetica-Bold")

    class NumberedCanvas(rl_canvas.Canvas):
        """Canvas that writes 'Seite N von M' once the page count is known."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._saved = []

        def showPage(self):  # noqa: N802 (reportlab API)
            self._saved.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._saved)
            for state in self._saved:
                self.__dict__.update(state)
                self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total):
            self.saveState()
            self.setFont("Helvetica", 8.5)
            self.setStrokeColor(colors.HexColor("#888888"))
            self.line(2.2 * cm, 1.75 * cm, A4[0] - 2.2 * cm, 1.75 * cm)
            self.drawString(2.2 * cm, 1.3 * cm, f"{AUTHOR} – {_short(doc['title'])}")
            self.drawRightString(A4[0] - 2.2 * cm,  1.3 * cm,
                                 f"Seite {self._pageNumber} von {total}")
            self.restoreState()

    story = [Paragraph(escape(doc["title"]), st_title)]
    for m in doc["meta"]:
        story.append(Paragraph(escape(m), st_meta))
    story.append(Spacer(1, 8))
    pending: list = []  # headings waiting for their first content block
    for kind, val in doc["blocks"]:
        if kind in ("h1", "h2"):
            pending.append(Paragraph(escape(val), st_h1 if kind == "h1" else st_h2))
            continue
        if kind == "p":
            flow = Paragraph(escape(val), base)
        elif kind == "ul":
            # bullet paragraphs with an en dash: "•" in the standard Type1
            # fonts is not mapped back to Unicode by common text extractors
            flow = [Paragraph(escape(i), st_item, bulletText="–") for i in val]
        elif kind == "table":
            ncols = max(len(r) for r in val)
            rows = []
            for ri, r in enumerate(val):
                r = r + [""] * (ncols - len(r))
                rows.append([Paragraph(escape(c), st_cell_h if ri == 0 else st_cell) for c in r])
            width = A4[0] - 4.4 * cm
            flow = Table(rows, colWidths=[width / ncols] * ncols, repeatRows=1)
            flow.setStyle(TableStyle([
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#777777")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]))
        else:
            raise ValueError(kind)
        flows = flow if isinstance(flow, list) else [flow]
        if pending and kind != "table":
            # keep headings together with the first block that follows them
            story.append(KeepTogether(pending + flows[:1]))
            story.extend(flows[1:])
        else:
            story.extend(pending)
            story.extend(flows)
        pending = []
        if kind == "table":
            story.append(Spacer(1, 8))
    story.extend(pending)

    buf = io.BytesIO()
    pdf = SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=2.2 * cm, rightMargin=2.2 * cm,
        topMargin=2.2 * cm, bottomMargin=2.4 * cm,
        title=doc["title"], author=AUTHOR, subject=doc["title"],
        creator="tools/corpus_src/build_corpus.py", producer="reportlab",
        lang="de-DE",
    )
    pdf.build(story, canvasmaker=NumberedCanvas)
    out.write_bytes(buf.getvalue())


# --------------------------------------------------------------------------
# DOCX (python-docx)
# --------------------------------------------------------------------------
def build_docx(doc: dict, out: Path) -> None:
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Pt

    d = Document()
    normal = d.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)

    d.add_heading(doc["title"], level=0)
    for m in doc["meta"]:
        p = d.add_paragraph()
        r = p.add_run(m)
        r.italic = True
    for kind, val in doc["blocks"]:
        if kind == "h1":
            d.add_heading(val, level=1)
        elif kind == "h2":
            d.add_heading(val, level=2)
        elif kind == "p":
            d.add_paragraph(val)
        elif kind == "ul":
            for item in val:
                d.add_paragraph(item, style="List Bullet")
        elif kind == "table":
            ncols = max(len(r) for r in val)
            t = d.add_table(rows=len(val), cols=ncols)
            t.style = "Table Grid"
            t.alignment = WD_TABLE_ALIGNMENT.CENTER
            for ri, row in enumerate(val):
                for ci in range(ncols):
                    cell = t.cell(ri, ci)
                    cell.text = row[ci] if ci < len(row) else ""
                    if ri == 0:
                        for run in cell.paragraphs[0].runs:
                            run.bold = True
            d.add_paragraph()
        else:
            raise ValueError(kind)

    cp = d.core_properties
    cp.title = doc["title"]
    cp.author = AUTHOR
    cp.last_modified_by = AUTHOR
    cp.created = FIXED_DT
    cp.modified = FIXED_DT
    cp.last_printed = FIXED_DT
    cp.revision = 1
    cp.language = "de-DE"
    cp.comments = ""
    cp.keywords = ""
    cp.subject = ""
    cp.category = ""

    buf = io.BytesIO()
    d.save(buf)
    out.write_bytes(_normalize_zip(buf.getvalue()))


def _normalize_zip(data: bytes) -> bytes:
    """Rewrite a zip package with fixed timestamps and a stable member order."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        names = src.namelist()
        # [Content_Types].xml must stay first; keep the original order otherwise
        for name in names:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(name))
    return out.getvalue()


# --------------------------------------------------------------------------
def main(argv: list[str]) -> int:
    OUT_DIR.mkdir(exist_ok=True)
    sources = sorted(SRC_DIR.glob("*.txt"))
    if not sources:
        print(f"no sources in {SRC_DIR}", file=sys.stderr)
        return 1
    for src in sources:
        stem, fmt = src.name[:-4].rsplit(".", 1)  # name.pdf.txt -> (name, pdf)
        doc = parse(src)
        target = OUT_DIR / f"{stem}.{fmt}"
        if fmt == "pdf":
            build_pdf(doc, target)
        elif fmt == "docx":
            build_docx(doc, target)
        else:
            print(f"skip {src.name}: unknown format {fmt}", file=sys.stderr)
            continue
        print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
