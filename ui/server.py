"""The web server: Gradio mounted in a FastAPI app that also serves the original documents."""

from __future__ import annotations

from html import escape
from pathlib import Path

import gradio as gr
from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

from ingest.loaders import LoadError, load_document
from kreiswissen.settings import Settings
from rag.answer_service import AnswerService

from .app import CSS, build_app

HEAD = '<meta name="description" content="Kreiswissen – KI-Wissensassistent der Kreisverwaltung">'
# Gradio renders <html lang="en">; the page is German (screen readers pick the voice from it).
JS = "() => { document.documentElement.lang = 'de'; }"


def indexed_file(service: AnswerService, chunk_id: str) -> Path:
    """The original file of an indexed chunk, only if it still lies inside an indexed folder."""
    catalog = service.store.catalog
    row = catalog.db.execute("SELECT collection, path FROM chunks WHERE id=? LIMIT 1", (chunk_id,)).fetchone()
    if row is None:
        raise HTTPException(404, "Dokument nicht gefunden")
    path = Path(row["path"]).resolve()
    folders = next((c["folders"] for c in catalog.collections() if c["name"] == row["collection"]), [])
    roots = [Path(f).resolve() for f in folders]
    inside = any(path == r or r in path.parents for r in roots) or (not roots and path == Path(row["path"]))
    if not inside or not path.is_file():
        raise HTTPException(404, "Dokument nicht gefunden")
    return path


def document_page(path: Path) -> str:
    try:
        doc = load_document(path)
    except LoadError as exc:
        raise HTTPException(422, f"Dokument kann nicht angezeigt werden: {exc}") from exc
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
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f'<body style="font-family: sans-serif; max-width: 50rem; margin: 2rem auto; padding: 0 1rem">'
        f"<main>{''.join(parts)}</main></body></html>"
    )


def create_server(settings: Settings, service: AnswerService | None = None) -> FastAPI:
    service = service or AnswerService(settings)
    api = FastAPI(title="Kreiswissen", docs_url=None, redoc_url=None)

    @api.get("/dokument/{chunk_id}")
    def open_document(chunk_id: str):
        path = indexed_file(service, chunk_id)
        if path.suffix.lower() == ".pdf":
            return FileResponse(path, media_type="application/pdf", content_disposition_type="inline")
        return HTMLResponse(document_page(path))

    @api.get("/healthz")
    def health() -> dict:
        return {"status": "ok"}

    blocks = build_app(settings, service)
    blocks.queue(default_concurrency_limit=1, max_size=200)
    return gr.mount_gradio_app(
        api, blocks, path="", css=CSS, head=HEAD, js=JS, footer_links=["api"], ssr_mode=False
    )
