"""The web server: Gradio mounted in a FastAPI app that also serves the original documents."""

from __future__ import annotations

import contextlib
from pathlib import Path

import gradio as gr
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest.original_page import CSP, original_name
from kreiswissen.files import inside_any
from kreiswissen.settings import Settings
from rag.access import User, may_read
from rag.answer_service import AnswerService

from .admin_auth import AdminSessions
from .app import CSS, build_app
from .feedback import FeedbackStore
from .ingest_job import IngestJob
from .sign_in import SignIn, SignInGate

HEAD = '<meta name="description" content="Kreiswissen – KI-Wissensassistent der Kreisverwaltung">'

# Gradio's page says lang="en", and Gradio picks the language of its own texts from the browser.
# The page is German for every browser: the HTML says lang="de" from the first byte (screen readers
# choose the voice from it), and Gradio's i18n is told the browser language is German before it starts.
PIN_GERMAN = (
    "<script>(() => { try {"
    " Object.defineProperty(navigator, 'language', { get: () => 'de-DE' });"
    " Object.defineProperty(navigator, 'languages', { get: () => ['de-DE', 'de'] });"
    " } catch (e) {} })();</script>"
)

# Runs once the app is mounted: keeps lang="de" and puts German names on the few English ARIA
# labels that Gradio hard-codes (they are not translated by its i18n).
JS = """
() => {
  const root = document.documentElement;
  const labels = {
    'chatbot conversation': 'Unterhaltung',
    'More tabs': 'Weitere Reiter',
    'Copy message': 'Nachricht kopieren',
    'Copy': 'Kopieren',
    'Copied message': 'Antwort kopiert',
    'Copied': 'Kopiert',
    'Copy conversation': 'Unterhaltung kopieren',
    'Clear': 'Leeren',
    'Gradio footer navigation': 'Fußzeile',
    'Loading...': 'Wird geladen …',
  };
  const set = (el, name, value) => { if (el.getAttribute(name) !== value) el.setAttribute(name, value); };
  const fix = () => {
    if (root.lang !== 'de') root.lang = 'de';
    for (const el of document.querySelectorAll('[aria-label], [title]')) {
      for (const name of ['aria-label', 'title']) {
        const value = el.getAttribute(name);
        if (value && labels[value]) set(el, name, labels[value]);
      }
    }
    for (const el of document.querySelectorAll('#kw-chat button.example[aria-label^="Select example"]')) {
      set(el, 'aria-label', el.getAttribute('aria-label').replace(/^Select example (\\d+):/, 'Beispielfrage $1:'));
    }
    for (const el of document.querySelectorAll('#kw-chat [data-testid="user"], #kw-chat [data-testid="bot"]')) {
      const value = el.getAttribute('aria-label') || '';
      const german = value.replace(/^user's message: /, 'Ihre Nachricht: ').replace(/^bot's message: /, 'Antwort von Kreiswissen: ');
      if (german !== value) set(el, 'aria-label', german);
    }
    for (const el of document.querySelectorAll('#kw-chat .examples[role="list"]')) {
      set(el, 'role', 'group');
      set(el, 'aria-label', 'Beispielfragen');
    }
    const log = document.querySelector('#kw-chat [role="log"]');
    if (log) {
      // The answer region is announced politely; while an answer streams it is marked busy, so that
      // screen readers read the finished answer instead of every token.
      set(log, 'aria-live', 'polite');
      set(log, 'aria-label', 'Unterhaltung');
      const busy = !!document.querySelector('#kw-chat .generating, #kw-chat [data-testid="status-tracker"]:not(.hide)');
      set(log, 'aria-busy', busy ? 'true' : 'false');
    }
    // Status messages are announced when they change (the containers persist, their content is replaced).
    for (const id of ['kw-feedback-status', 'kw-admin-message', 'kw-admin-status', 'kw-admin-login-message']) {
      const el = document.getElementById(id);
      if (el) { set(el, 'role', 'status'); set(el, 'aria-live', 'polite'); }
    }
    const user = document.querySelector('#kw-admin-user input');
    if (user) set(user, 'autocomplete', 'username');
    const password = document.querySelector('#kw-admin-password input');
    if (password) set(password, 'autocomplete', 'current-password');
  };
  new MutationObserver(fix).observe(document.documentElement, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['lang', 'aria-label', 'title', 'role', 'class'],
  });
  fix();
}
"""

# Colours chosen for WCAG AA contrast (text 4.5:1) in light and dark mode.
THEME = gr.themes.Default(primary_hue="blue").set(
    body_text_color_subdued="*neutral_600",
    body_text_color_subdued_dark="*neutral_300",
    input_placeholder_color="*neutral_500",
    input_placeholder_color_dark="*neutral_400",
    button_primary_background_fill="*primary_700",
    button_primary_background_fill_hover="*primary_800",
    button_primary_background_fill_dark="*primary_700",
    button_primary_background_fill_hover_dark="*primary_800",
    button_primary_text_color="white",
    button_primary_text_color_dark="white",
    button_cancel_background_fill="#b91c1c",
    button_cancel_background_fill_hover="#991b1b",
    button_cancel_background_fill_dark="#b91c1c",
    button_cancel_background_fill_hover_dark="#991b1b",
    button_cancel_text_color="white",
    button_cancel_text_color_dark="white",
)


class GermanPage:
    """ASGI middleware for Gradio's HTML page ("/"): lang="de" and German Gradio texts (see PIN_GERMAN)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != "/":
            await self.app(scope, receive, send)
            return
        start: Message = {}
        body: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            content = b"".join(body)
            html = dict(headers).get(b"content-type", b"").startswith(b"text/html")
            if html and b"content-encoding" not in dict(headers):
                content = german_page(content.decode("utf-8")).encode("utf-8")
            headers.append((b"content-length", str(len(content)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": content})

        await self.app(scope, receive, capture)


def german_page(html: str) -> str:
    html = html.replace('lang="en"', 'lang="de"', 1)
    return html.replace("<head>", "<head>" + PIN_GERMAN, 1)


def indexed_file(service: AnswerService, chunk_id: str, user: User | None = None) -> Path:
    """The original file of an indexed chunk of a collection the user may read (None: any), only if
    it still lies inside an indexed folder. Unknown and unreadable look the same (404)."""
    catalog = service.store.catalog
    current = {c["key"]: c for c in catalog.collections() if user is None or may_read(user, c["groups"])}
    locations = catalog.chunk_locations(chunk_id)
    found = next((loc for loc in locations if loc[0] in current), None)  # current generation only
    if found is None:
        raise HTTPException(404, "Dokument nicht gefunden")
    key, stored = found
    path = Path(stored).resolve()
    roots = [Path(f).resolve() for f in current[key]["folders"]]
    inside = inside_any(path, roots) or (not roots and path == Path(stored))
    if not inside or not path.is_file():
        raise HTTPException(404, "Dokument nicht gefunden")
    return path


def original_file(service: AnswerService, chunk_id: str, path: Path) -> Path:
    """The page (or PDF) rendered for this file at ingest, inside the sandbox; never parsed here."""
    sha256 = service.store.catalog.file_sha256_of_chunk(chunk_id)
    if sha256 is None:
        raise HTTPException(404, "Dokument nicht gefunden")
    cached = service.settings.index_dir / "originals" / original_name(sha256, path.suffix)
    if not cached.is_file():
        raise HTTPException(
            404, "Das Originaldokument ist noch nicht aufbereitet. Bitte die Sammlung neu indexieren."
        )
    return cached


def _preload_matplotlib() -> None:
    """Gradio sets matplotlib's backend around every event, and the first time that imports pyplot:
    0.6 s in the event loop, which held up every question asked in the server's first second. Paid
    at start instead."""
    with contextlib.suppress(ImportError):
        from gradio.utils import MatplotlibBackendMananger

        with MatplotlibBackendMananger():
            pass


def create_server(
    settings: Settings,
    service: AnswerService | None = None,
    feedback: FeedbackStore | None = None,
    sessions: AdminSessions | None = None,
    job: IngestJob | None = None,
    sign_in: SignIn | None = None,
) -> FastAPI:
    service = service or AnswerService(settings)
    sign_in = sign_in or SignIn(settings)
    api = FastAPI(title="Kreiswissen", docs_url=None, redoc_url=None)
    sign_in.add_routes(api)

    @api.get("/dokument/{chunk_id}")
    def open_document(chunk_id: str, request: Request):
        user = sign_in.user(request.scope)
        if user is None:
            raise HTTPException(401, "Bitte melden Sie sich an.")
        path = indexed_file(service, chunk_id, user)
        cached = original_file(service, chunk_id, path)
        if cached.suffix == ".pdf":
            return FileResponse(cached, media_type="application/pdf", content_disposition_type="inline")
        return FileResponse(
            cached, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": CSP}
        )

    @api.get("/healthz")
    def health() -> dict:
        return {"status": "ok"}

    blocks = build_app(settings, service, feedback, sessions, job, sign_in)
    _preload_matplotlib()
    blocks.queue(default_concurrency_limit=1, max_size=200)
    api.add_middleware(GermanPage)
    api.add_middleware(SignInGate, sign_in=sign_in)  # outermost: nothing is served without a user
    return gr.mount_gradio_app(
        api, blocks, path="", css=CSS, head=HEAD, js=JS, theme=THEME, footer_links=[], ssr_mode=False
    )
