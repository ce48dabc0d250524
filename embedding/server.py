"""`kreiswissen serve-embeddings`: the bundled embedder behind an OpenAI-compatible `/v1/embeddings`.

Lets a bigger machine in the county's network embed for one or several Kreiswissen installations
(they set `embedding.backend = "openai"`), and gives the tests a real server on loopback.
Queries and passages are told apart by the E5 convention: a text starting with "query: " is a
query, one starting with "passage: " (or with no prefix) a passage; the prefix is removed before
the bundled model adds its own.
"""

from __future__ import annotations

from typing import Annotated

import typer
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from kreiswissen.settings import EmbeddingSettings, get_settings

from .backends import build_embed_model, embedding_name

QUERY, PASSAGE = "query: ", "passage: "
MAX_INPUTS = 2048


class EmbeddingRequest(BaseModel):
    input: str | list[str]
    model: str = "default"
    encoding_format: str = "float"


def create_app(settings: EmbeddingSettings) -> FastAPI:
    if settings.backend == "openai":
        raise ValueError("serve-embeddings braucht ein lokales Embedding-Modell, nicht backend=openai")
    model = build_embed_model(settings)
    name = embedding_name(settings)
    app = FastAPI(title="Kreiswissen embeddings", docs_url=None, redoc_url=None)

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/v1/models")
    def models() -> dict:
        return {"object": "list", "data": [{"id": name, "object": "model", "owned_by": "kreiswissen"}]}

    @app.post("/v1/embeddings")
    def embeddings(request: EmbeddingRequest) -> dict:
        texts = [request.input] if isinstance(request.input, str) else request.input
        if not texts or len(texts) > MAX_INPUTS:
            raise HTTPException(400, f"'input' must hold 1 to {MAX_INPUTS} texts")
        if request.encoding_format != "float":
            raise HTTPException(400, "only encoding_format 'float' is supported")
        vectors: list[list[float] | None] = [None] * len(texts)
        queries = [i for i, t in enumerate(texts) if t.startswith(QUERY)]
        passages = [i for i, t in enumerate(texts) if not t.startswith(QUERY)]
        for i in queries:  # questions come one at a time
            vectors[i] = model.get_query_embedding(texts[i][len(QUERY) :])
        if passages:
            plain = [texts[i].removeprefix(PASSAGE) for i in passages]
            for i, vector in zip(passages, model.get_text_embedding_batch(plain), strict=True):
                vectors[i] = vector
        return {
            "object": "list",
            "model": name,
            "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": 0, "total_tokens": 0},
        }

    return app


def serve_embeddings_command(
    host: Annotated[str, typer.Option(help="Adresse; 0.0.0.0 nur in einem geschützten Netz")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8002,
) -> None:
    """Das eingestellte lokale Embedding-Modell als OpenAI-kompatiblen /v1/embeddings-Dienst anbieten."""
    import uvicorn

    settings = get_settings().embedding
    try:
        app = create_app(settings)
    except ValueError as exc:
        typer.echo(f"Fehler: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"Embedding-Dienst ({embedding_name(settings)}) auf http://{host}:{port}/v1")
    uvicorn.run(app, host=host, port=port, log_level="warning")
