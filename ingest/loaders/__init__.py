"""One loader per format; each turns a file into a LoadedDocument of heading-tagged blocks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kreiswissen.schema import LoadedDocument

from .docx_loader import load_docx
from .errors import LoadError
from .html_loader import load_html
from .markdown_loader import load_markdown
from .odt_loader import load_odt
from .pdf_loader import load_pdf
from .text_loader import load_text
from .xlsx_loader import load_xlsx

LOADERS: dict[str, Callable[[Path], LoadedDocument]] = {
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".html": load_html,
    ".htm": load_html,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".xlsx": load_xlsx,
    ".xlsm": load_xlsx,
    ".odt": load_odt,
}

SUPPORTED_SUFFIXES = frozenset(LOADERS)


def load_document(path: Path) -> LoadedDocument:
    """Load one file; raise LoadError with a German reason when it cannot be used."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoadError(f"Dateiformat {path.suffix or '(ohne Endung)'} wird nicht unterstützt")
    try:
        doc = loader(path)
    except (LoadError, MemoryError):  # MemoryError: the sandbox reports its memory limit
        raise
    except Exception as exc:  # any parser failure is a bad file, not a crash of the run
        raise LoadError(f"Datei ist beschädigt oder nicht lesbar ({type(exc).__name__}: {exc})") from exc
    if not any(b.text.strip() for b in doc.blocks):
        raise LoadError("Datei enthält keinen Text")
    return doc


__all__ = ["LOADERS", "SUPPORTED_SUFFIXES", "LoadError", "load_document"]
