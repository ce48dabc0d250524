"""Retries with backoff for the HTTP services an answer depends on, against real servers on loopback:
a server that fails twice, a model server that answers 503 once, and a model server that is down."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse, StreamingResponse

from ingest.service import IngestService
from kreiswissen.http_retry import RetryTransport
from kreiswissen.settings import GeneratorSettings
from rag.answer_service import NOTICE_FAILED, AnswerService
from rag.generator import GeneratorUnavailable, OpenAICompatibleGenerator
from tests.conftest import free_port, make_settings, serve

MESSAGES = [{"role": "user", "content": "Hallo"}]


def flaky_app(failures: int) -> tuple[FastAPI, list[str]]:
    """/flaky and /v1/chat/completions answer 503 `failures` times, then work."""
    app = FastAPI()
    calls: list[str] = []
    app.get("/healthz")(lambda: {"status": "ok"})

    @app.get("/flaky")
    def flaky():
        calls.append("flaky")
        if len(calls) <= failures:
            return JSONResponse({"error": "busy"}, status_code=503)
        return {"ok": True}

    @app.post("/v1/chat/completions")
    def complete():
        calls.append("chat")
        if len(calls) <= failures:
            return JSONResponse({"error": "loading model"}, status_code=503)

        def chunks():
            for token in ("Hallo", " Welt"):
                yield f"data: {json.dumps({'choices': [{'delta': {'content': token}}]})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(chunks(), media_type="text/event-stream")

    return app, calls


def test_transport_retries_temporary_errors() -> None:
    app, calls = flaky_app(failures=2)
    with serve(app) as url, httpx.Client(transport=RetryTransport(httpx.HTTPTransport(), 4)) as client:
        assert client.get(f"{url}/flaky").json() == {"ok": True}
    assert len(calls) == 3


def test_transport_gives_up_after_its_attempts() -> None:
    app, calls = flaky_app(failures=10)
    with serve(app) as url, httpx.Client(transport=RetryTransport(httpx.HTTPTransport(), 2)) as client:
        assert client.get(f"{url}/flaky").status_code == 503
    assert len(calls) == 2


def test_model_server_that_is_loading_is_retried() -> None:
    app, calls = flaky_app(failures=1)
    with serve(app) as url:
        generator = OpenAICompatibleGenerator(GeneratorSettings(backend="openai", api_base=f"{url}/v1"))
        assert "".join(generator.stream(MESSAGES, 10, 0.0)) == "Hallo Welt"
    assert calls == ["chat", "chat"]


def test_model_server_down_gives_a_german_reason() -> None:
    port = free_port()  # nothing listens there
    settings = GeneratorSettings(backend="openai", api_base=f"http://127.0.0.1:{port}/v1", api_retries=3)
    with pytest.raises(GeneratorUnavailable, match=r"nicht erreichbar \(keine Verbindung; 3 Versuche\)"):
        list(OpenAICompatibleGenerator(settings).stream(MESSAGES, 10, 0.0))


def test_answer_with_the_model_server_down_still_shows_the_extract(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "parken.md").write_text(
        "# Parken am Kreishaus\n\n## 1 Gebühr\n\nEin Stellplatz in der Tiefgarage kostet 18 Euro im Monat.\n",
        encoding="utf-8",
    )
    down = f"http://127.0.0.1:{free_port()}/v1"
    settings = make_settings(tmp_path / "data", generator=GeneratorSettings(backend="openai", api_base=down))
    IngestService(settings).ingest([docs])
    answer = AnswerService(settings).answer("Was kostet ein Stellplatz in der Tiefgarage?")
    assert "18 Euro" in answer.text and answer.notice == NOTICE_FAILED
