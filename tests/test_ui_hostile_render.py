"""Markdown and HTML payloads from documents and from generated text never become active links or
images in the browser: Debian's Chromium against the real server, the real index, and a model server
on loopback (OpenAI-compatible, streaming) that writes a hostile answer token by token."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from playwright.sync_api import Page

from ingest.service import IngestService
from kreiswissen.settings import GeneratorSettings
from rag.answer_service import AnswerService
from tests.conftest import make_settings, serve
from tests.test_ui_browser import chromium, open_app
from ui.server import create_server

pytestmark = pytest.mark.browser

QUESTION = "Wie hoch ist die Gebühr für den Anwohnerparkausweis?"
DOCUMENT = """# Anwohnerparkausweis

## 1 Gebühr

Die Gebühr für den Anwohnerparkausweis beträgt 30,70 Euro im Jahr; das Formular liegt unter
https://evil.example/formular.pdf und www.evil.example/antrag bereit, Fragen an poststelle@evil.example.
Den Antrag bearbeitet die Straßenverkehrsbehörde innerhalb von zwei Wochen.

[Zum Antrag](https://evil.example/doc-link) ![Logo](https://evil.example/doc-image.png)
<img src="https://evil.example/doc-html.png"> <a href="https://evil.example/doc-a">Portal</a>
"""
# What the "model" writes: every way Markdown or HTML could make a link or load an image.
FIRST = [
    "Die Gebühr beträgt 30,70 Euro [1]. ",
    "Mehr [hier](https://evil.example/gen-link) ",
    "![x](https://evil.example/gen-image.png) ",
    '<img src="https://evil.example/gen-html.png"> ',
    '<a href="https://evil.example/gen-a">Portal</a> ',
]
SECOND = [
    "https://evil.example/gen-bare ",
    "www.evil.example ",
    "hilfe@evil.example [ref]\n\n[ref]: https://evil.example/r",
]


class HostileModel:
    """An OpenAI-compatible /v1/chat/completions that streams FIRST, waits for the test, then SECOND."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.app = FastAPI()
        self.app.get("/healthz")(lambda: {"status": "ok"})
        self.app.post("/v1/chat/completions")(self.complete)

    def complete(self) -> StreamingResponse:
        def chunks() -> Iterator[str]:
            for i, token in enumerate(FIRST + SECOND):
                if i == len(FIRST):
                    self.release.wait(120)
                delta = {"choices": [{"delta": {"content": token}}]}
                yield f"data: {json.dumps(delta)}\n\n"
                time.sleep(0.05)
            yield "data: [DONE]\n\n"

        return StreamingResponse(chunks(), media_type="text/event-stream")


ACTIVE = """() => ({
    links: [...document.querySelectorAll('a[href]')].map(a => a.href).filter(h => h.includes('evil')),
    images: [...document.querySelectorAll('img')].map(i => i.src).filter(s => s.includes('evil')),
    frames: document.querySelectorAll('#kw-chat iframe, #kw-sources iframe, #kw-chat script').length,
    chat: document.querySelector('#kw-chat')?.innerText || '',
    sources: document.querySelector('#kw-sources')?.innerText || '',
})"""


def _inert(page: Page) -> dict:
    state = page.evaluate(ACTIVE)
    assert state["links"] == [] and state["images"] == [] and state["frames"] == 0, state
    return state


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, HostileModel]]:
    model = HostileModel()
    folder = tmp_path_factory.mktemp("hostile-docs")
    (folder / "anwohnerparken.md").write_text(DOCUMENT, encoding="utf-8")
    with serve(model.app) as model_url:
        settings = make_settings(
            tmp_path_factory.mktemp("hostile-index"),
            generator=GeneratorSettings(backend="openai", api_base=f"{model_url}/v1", max_new_tokens=80),
        )
        report = IngestService(settings).ingest([Path(folder)])
        assert report.added and not report.failed
        service = AnswerService(settings)
        with serve(create_server(settings, service)) as url:
            yield url, model


def test_payloads_in_documents_and_generated_text_stay_text(hostile_server) -> None:
    url, model = hostile_server
    with chromium() as browser:
        page = browser.new_page()
        open_app(page, url)
        page.locator("#kw-question textarea").fill(QUESTION)
        page.locator("#kw-question textarea").press("Enter")
        # While the answer streams: the hostile half is on screen, as text.
        page.wait_for_function(
            "() => (document.querySelector('#kw-chat')?.innerText || '').includes('Portal')",
            timeout=300_000,
        )
        streaming = _inert(page)
        assert "[hier](https://evil.example/gen-link)" in streaming["chat"]
        assert '<img src="https://evil.example/gen-html.png">' in streaming["chat"]
        model.release.set()
        page.wait_for_function("() => document.querySelector('#kw-good')?.checkVisibility()", timeout=300_000)
        done = _inert(page)
        # The generated text added web addresses: it is withheld, the extract is shown, as text.
        assert "Anweisung aus einem Dokument" in done["chat"] or "Webadresse" in done["chat"], done["chat"]
        assert "https://evil.example/formular.pdf" in done["chat"]  # quoted from the document, not a link
        assert "poststelle@evil.example" in done["chat"]
        assert "doc-image.png" in done["sources"] and "doc-html.png" in done["sources"]
        page.close()
