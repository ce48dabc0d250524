"""The readable page of an original document, rendered once at ingest inside the sandbox.

The web process serves these files as they are (`originals/<sha256>.html`, or the PDF itself as
`originals/<sha256>.pdf`) and never parses a document on request: a hostile file can only hurt the
sandboxed worker, under its time and memory limits.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from html import escape
from pathlib import Path

from kreiswissen.schema import LoadedDocument

# The page is inert: no script, no remote content, styles only from the page itself.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'"


def original_name(sha256: str, suffix: str) -> str:
    return f"{sha256}.pdf" if suffix.lower() == ".pdf" else f"{sha256}.html"


def render_page(doc: LoadedDocument) -> str:
    parts = [f"<h1>{escape(doc.title)}</h1>"]
    current: tuple[str, ...] = ()
    for block in doc.blocks:
        if block.headings != current:
            current = block.headings
            if current:
                level = min(len(current) + 1, 6)
                parts.append(f"<h{level}>{escape(current[-1])}</h{level}>")
        parts.append(f'<p style="white-space: pre-wrap">{escape(block.text)}</p>')
    return (
        f'<!doctype html><html lang="de"><head><meta charset="utf-8"><title>{escape(doc.title)}</title>'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f'<body style="font-family: sans-serif; max-width: 50rem; margin: 2rem auto; padding: 0 1rem">'
        f"<main>{''.join(parts)}</main></body></html>"
    )


def store_original(folder: Path, sha256: str, source: Path, doc: LoadedDocument) -> Path:
    """Write the page (or a copy of the PDF) atomically; an existing one for the same content stays."""
    target = folder / original_name(sha256, source.suffix)
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            if source.suffix.lower() == ".pdf":
                with source.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
            else:
                out.write(render_page(doc).encode("utf-8"))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
