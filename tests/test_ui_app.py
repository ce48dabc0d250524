"""The web app starts and answers through gradio_client, over real HTTP on loopback."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
import uvicorn
from gradio_client import Client

from ui.server import create_server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server_url(corpus_settings, answer_service):
    app = create_server(corpus_settings, answer_service)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


def test_page_is_german_and_says_an_ai_answers(server_url: str) -> None:
    html = httpx.get(server_url + "/").text
    assert "Kreiswissen" in html


@pytest.mark.slow
def test_gradio_client_gets_an_answer_with_sources(server_url: str) -> None:
    client = Client(server_url, verbose=False)
    result = client.predict("Bis wann muss eine Datenpanne gemeldet werden?", api_name="/answer")
    assert result["answer"].strip()
    assert result["refused"] is False
    assert result["cited"], result
    assert all(s["title"] and s["text"] for s in result["cited"] + result["further"])


def test_original_document_is_served_for_a_cited_chunk(server_url: str, answer_service) -> None:
    source = answer_service.retrieve("Eingangsstempel Posteingang").sources[0]
    response = httpx.get(f"{server_url}/dokument/{source.chunk.id}")
    assert response.status_code == 200
    assert httpx.get(f"{server_url}/dokument/does-not-exist").status_code == 404
