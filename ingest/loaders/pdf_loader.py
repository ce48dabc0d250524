from __future__ import annotations

import logging
import re
import shutil
from collections import Counter
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError

from kreiswissen.schema import LoadedDocument

from ..structure import join_hyphenated
from .builder import BlockBuilder
from .errors import LoadError
from .pdf_tables import table_pages

log = logging.getLogger(__name__)

_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"[A-Za-zÄÖÜäöüß]{3,}")
_COLUMN_GAP = re.compile(r" {4,}")
_RULE_OPS = re.compile(rb"\s(?:re|l)\s")  # rectangles and line segments in a content stream
# Frequent German function words; reversed text ("red", "dnu") shows them backwards.
_COMMON = {
    "der",
    "die",
    "das",
    "und",
    "von",
    "für",
    "mit",
    "den",
    "des",
    "nach",
    "auf",
    "ist",
    "eine",
    "wird",
}
OCR_LANGUAGE = "deu"
OCR_DPI = 250


def _furniture(pages: list[list[str]]) -> set[str]:
    """Lines repeated on most pages (running headers, footers such as 'Seite 3 von 9')."""
    if len(pages) < 3:
        return {ln for lines in pages for ln in lines if _DIGITS.sub("#", ln) in ("Seite # von #", "- # -")}
    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({_DIGITS.sub("#", ln) for ln in lines[:3] + lines[-3:]})
    return {key for key, n in counts.items() if n >= max(3, len(pages) // 2)}


def _fragmented(text: str) -> bool:
    """Form layouts make the plain extraction fall apart into a few characters per line."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if len(lines) < 8:
        return False
    short = sum(len(ln) <= 3 for ln in lines)
    mean = sum(map(len, lines)) / len(lines)
    return mean < 18 or short / len(lines) > 0.3


def _usable(text: str) -> bool:
    return len(_WORD.findall(text)) >= 5


def _unreverse(text: str) -> str:
    """Some PDFs store text right to left ('gnuldeM'); turn such lines around."""
    words = [w.lower() for w in re.findall(r"[A-Za-zÄÖÜäöüß]+", text)]
    forward = sum(w in _COMMON for w in words)
    backward = sum(w[::-1] in _COMMON for w in words)
    if backward >= 3 and backward > 2 * forward:
        return "\n".join(line[::-1] for line in text.splitlines())
    return text


def _page_text(page) -> str:
    text = page.extract_text() or ""
    if _fragmented(text):
        layout = page.extract_text(extraction_mode="layout") or ""
        # Wide gaps separate form fields or table columns: keep them apart as " | ".
        text = "\n".join(_COLUMN_GAP.sub(" | ", ln).strip(" |") for ln in layout.splitlines())
    return _unreverse(text)


def _ruled(page) -> bool:
    """Cheap pre-check before pdfplumber's slower table search: a ruled table draws its grid lines."""
    try:
        contents = page.get_contents()
        return contents is not None and len(_RULE_OPS.findall(contents.get_data())) >= 6
    except Exception:  # an odd content stream only costs the table search
        return False


def _plausible_title(title: str) -> bool:
    """Metadata titles are often leftovers of the authoring tool ('783583_v2_indd', 'tmp-9888')."""
    return len(title.split()) >= 2 and "_" not in title and not title.lower().startswith(("tmp", "microsoft"))


def ocr_available() -> bool:
    return shutil.which("tesseract") is not None


def _ocr_page(path: Path, index: int) -> str:
    import pypdfium2
    import pytesseract

    pdf = pypdfium2.PdfDocument(str(path))
    try:
        image = pdf[index].render(scale=OCR_DPI / 72).to_pil()
    finally:
        pdf.close()
    return pytesseract.image_to_string(image, lang=OCR_LANGUAGE)


def load_pdf(path: Path) -> LoadedDocument:
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("PDF ist passwortgeschützt")
        page_texts = [_page_text(page) for page in reader.pages]
        ruled = {i for i, page in enumerate(reader.pages) if _usable(page_texts[i]) and _ruled(page)}
    except (FileNotDecryptedError, NotImplementedError) as exc:
        raise LoadError("PDF ist verschlüsselt und kann nicht gelesen werden") from exc
    except PdfReadError as exc:
        raise LoadError(f"PDF ist beschädigt ({exc})") from exc
    if not page_texts:
        raise LoadError("PDF enthält keine Seiten")

    # Ruled tables: pdfplumber keeps cells apart, so each row can carry its column headers.
    for i, text in table_pages(path, ruled).items():
        page_texts[i] = text

    # Scanned pages (no text layer): OCR with Tesseract where it is installed, never index them empty.
    missing = [i for i, t in enumerate(page_texts) if not _usable(t)]
    if missing:
        if not ocr_available():
            if len(missing) == len(page_texts):
                raise LoadError("PDF: kein Textlayer (OCR nötig, Tesseract ist nicht installiert)")
            log.warning(
                "%s: pages %s have no text layer and Tesseract is missing", path, [i + 1 for i in missing]
            )
        else:
            for i in missing:
                page_texts[i] = _ocr_page(path, i)
            if not any(_usable(t) for t in page_texts):
                raise LoadError("PDF enthält keinen erkennbaren Text (auch nicht per OCR)")

    pages = [[ln.strip() for ln in join_hyphenated(t).splitlines()] for t in page_texts]
    furniture = _furniture(pages)
    meta_title = ((reader.metadata.title if reader.metadata else None) or "").strip()
    title = meta_title if _plausible_title(meta_title) else ""
    builder = BlockBuilder(detect_headings=True)
    for number, lines in enumerate(pages, start=1):
        builder.page(number)
        for ln in lines:
            if _DIGITS.sub("#", ln) in furniture:
                continue
            if not title and ln:
                title = ln  # first line of text stands in for a missing metadata title
                continue
            if ln and ln == title and number == 1:
                continue
            builder.line(ln)
    builder.flush()
    return LoadedDocument(path=str(path), title=title or path.stem, blocks=builder.blocks, pages=len(pages))
