from __future__ import annotations

from pathlib import Path

from kreiswissen.schema import LoadedDocument

from .builder import BlockBuilder
from .errors import LoadError

# Tried in order: UTF-8 first; cp1252 is what Windows file servers in German offices mostly hold.
_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")


def read_text(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise LoadError("Datei ist keine Textdatei (enthält Binärdaten)")
    for enc in _ENCODINGS:
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise LoadError("Zeichenkodierung der Datei nicht erkannt")


def load_text(path: Path) -> LoadedDocument:
    lines = read_text(path).splitlines()
    title = next((ln.strip() for ln in lines if ln.strip()), path.stem)
    builder = BlockBuilder(detect_headings=True)
    seen_title = False
    for ln in lines:
        if not seen_title and ln.strip() == title:
            seen_title = True
            continue
        if set(ln.strip()) <= set("=-_*#~ "):  # underline rulers of text headings
            builder.line("")
            continue
        builder.line(ln.rstrip())
    builder.flush()
    return LoadedDocument(path=str(path), title=title, blocks=builder.blocks)
