from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError

from kreiswissen.schema import LoadedDocument

from ..structure import join_hyphenated
from .builder import BlockBuilder
from .errors import LoadError

_DIGITS = re.compile(r"\d+")


def _furniture(pages: list[list[str]]) -> set[str]:
    """Lines repeated on most pages (running headers, footers such as 'Seite 3 von 9')."""
    if len(pages) < 3:
        return {ln for lines in pages for ln in lines if _DIGITS.sub("#", ln) in ("Seite # von #", "- # -")}
    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({_DIGITS.sub("#", ln) for ln in lines[:3] + lines[-3:]})
    return {key for key, n in counts.items() if n >= max(3, len(pages) // 2)}


def load_pdf(path: Path) -> LoadedDocument:
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("PDF ist passwortgeschützt")
        page_texts = [page.extract_text() or "" for page in reader.pages]
    except (FileNotDecryptedError, NotImplementedError) as exc:
        raise LoadError("PDF ist verschlüsselt und kann nicht gelesen werden") from exc
    except PdfReadError as exc:
        raise LoadError(f"PDF ist beschädigt ({exc})") from exc
    if not page_texts:
        raise LoadError("PDF enthält keine Seiten")
    if not any(t.strip() for t in page_texts):
        raise LoadError("PDF hat keinen Textlayer (OCR nötig)")

    pages = [[ln.strip() for ln in join_hyphenated(t).splitlines()] for t in page_texts]
    furniture = _furniture(pages)
    meta_title = ((reader.metadata.title if reader.metadata else None) or "").strip()
    title = meta_title
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
