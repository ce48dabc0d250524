from __future__ import annotations

from pathlib import Path

from charset_normalizer import from_bytes

from kreiswissen.schema import LoadedDocument

from .builder import BlockBuilder
from .errors import LoadError

# Encodings a German administration meets: Windows and DOS code pages of Western, Central and Eastern
# Europe, Turkish, Cyrillic. Restricting the detector to them avoids exotic guesses on short texts.
_CANDIDATES = [
    "utf_16", "utf_16_le", "utf_16_be", "utf_32", "cp1252", "cp1250", "cp1251", "cp1254", "cp1257",
    "iso8859_15", "iso8859_2", "iso8859_5", "koi8_r", "cp850", "cp437", "cp866", "mac_roman",
]  # fmt: skip
# Windows file servers in German offices mostly hold cp1252: it wins whenever it decodes cleanly and
# the detector found a Latin-script code page (they differ in a few letters only).
_LATIN = {"cp1252", "cp1250", "cp1254", "cp1257", "iso8859_15", "iso8859_2", "mac_roman"}
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))  # fmt: skip


def read_text(path: Path) -> str:
    """Decode a text file: BOM, then UTF-8, then the encoding charset-normalizer detects (UTF-16
    without BOM, cp1251, …), with cp1252 where the detection is not confident."""
    data = path.read_bytes()
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise LoadError(f"Datei ist als {encoding} markiert, aber nicht lesbar") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data, cp_isolation=_CANDIDATES).best()
    if best is not None and best.encoding.startswith(("utf_16", "utf_32")):
        return str(best)
    if b"\x00" in data[:8192]:
        raise LoadError("Datei ist keine Textdatei (enthält Binärdaten)")
    if best is not None and best.encoding not in _LATIN:
        return str(best)
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        if best is None:
            raise LoadError("Zeichenkodierung der Datei nicht erkannt") from None
        return str(best)
    if best is None and sum(ch < " " and ch not in "\t\n\r\f" for ch in text) > len(text) // 20:
        raise LoadError("Datei ist keine Textdatei (enthält Binärdaten)")
    return text


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
