"""Embeddings from an OpenAI-compatible `/v1/embeddings` server (Text Embeddings Inference, vLLM,
Ollama, infinity, `kreiswissen serve-embeddings`): a county's GPU box, or a bigger CPU machine.

Texts go out in requests of `batch_size`, `api_concurrency` requests at a time; a request that fails
on the connection, times out, or gets 408/429/5xx is retried with growing pauses (tenacity). When a
request still fails, `EmbeddingServiceError` says so in German (the ingest stops there, with every
file indexed so far complete and the rest left for the next run).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from kreiswissen.settings import EmbeddingSettings

_TRANSIENT_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class EmbeddingServiceError(RuntimeError):
    """The embeddings server could not deliver; the message is German and meant for the admin."""


class _StatusError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, _StatusError):
        return exc.status in _TRANSIENT_STATUS
    return isinstance(exc, httpx.TransportError)


def _reason_de(exc: BaseException, timeout_s: float) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "keine Verbindung"
    if isinstance(exc, httpx.TimeoutException):
        return f"keine Antwort innerhalb von {timeout_s:g} s"
    if isinstance(exc, httpx.TransportError):
        return "Verbindung abgebrochen"
    if isinstance(exc, _StatusError):
        return f"Fehler HTTP {exc.status}: {exc.detail[:200]}"
    return str(exc)[:200]


class OpenAIServerEmbedding(BaseEmbedding):
    """A LlamaIndex embedding that calls an OpenAI-compatible server; vectors are L2-normalised."""

    _settings: EmbeddingSettings = PrivateAttr()
    _client: httpx.Client = PrivateAttr()
    _pool: ThreadPoolExecutor = PrivateAttr()
    _dim: int | None = PrivateAttr(default=None)
    _dim_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(self, settings: EmbeddingSettings, **kwargs: Any) -> None:
        concurrency = max(1, settings.api_concurrency)
        # LlamaIndex hands us this many texts per call; we split them into `batch_size` requests.
        super().__init__(
            model_name=f"{settings.api_model} @ {settings.api_base}",
            embed_batch_size=min(2048, max(1, settings.batch_size) * concurrency),
            **kwargs,
        )
        self._settings = settings
        headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
        self._client = httpx.Client(
            base_url=settings.api_base.rstrip("/") + "/",
            headers=headers,
            timeout=settings.api_timeout_s,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="kw-embed-api")

    # -- one request ---------------------------------------------------------------------------
    def _request(self, texts: list[str]) -> list[list[float]]:
        response = self._client.post(
            "embeddings",
            json={"model": self._settings.api_model, "input": texts, "encoding_format": "float"},
        )
        if response.status_code != 200:
            raise _StatusError(response.status_code, _error_detail(response))
        try:
            data = sorted(response.json()["data"], key=lambda d: d["index"])
            vectors = np.asarray([d["embedding"] for d in data], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingServiceError(
                f"Der Embedding-Server {self._settings.api_base} hat eine unerwartete Antwort geschickt "
                f"(kein OpenAI-kompatibles /v1/embeddings?): {exc}"
            ) from exc
        if vectors.ndim != 2 or len(vectors) != len(texts):
            raise EmbeddingServiceError(
                f"Der Embedding-Server {self._settings.api_base} hat {len(vectors)} Vektoren für "
                f"{len(texts)} Texte geliefert."
            )
        self._check_dim(vectors.shape[1])
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.maximum(norms, 1e-12)).tolist()

    def _check_dim(self, dim: int) -> None:
        with self._dim_lock:
            if self._dim is None:
                self._dim = dim
            elif self._dim != dim:
                raise EmbeddingServiceError(
                    f"Der Embedding-Server {self._settings.api_base} liefert plötzlich {dim} statt "
                    f"{self._dim} Dimensionen – wurde dort das Modell gewechselt?"
                )

    def _request_with_retries(self, texts: list[str]) -> list[list[float]]:
        s = self._settings
        retrying = Retrying(
            stop=stop_after_attempt(max(1, s.api_retries)),
            wait=wait_exponential_jitter(multiplier=0.5, max=15),
            retry=retry_if_exception(_transient),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._request(texts)
        except EmbeddingServiceError:
            raise
        except _StatusError as exc:
            if not _transient(exc):  # a wrong model name, a bad key: retrying cannot help
                raise EmbeddingServiceError(
                    f"Der Embedding-Server {s.api_base} hat die Anfrage abgelehnt "
                    f"({_reason_de(exc, s.api_timeout_s)}). Bitte embedding.api_model und "
                    "embedding.api_key prüfen."
                ) from exc
            raise self._unavailable(exc, retrying) from exc
        except httpx.HTTPError as exc:
            raise self._unavailable(exc, retrying) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _unavailable(self, exc: BaseException, retrying: Retrying) -> EmbeddingServiceError:
        s = self._settings
        tries = retrying.statistics.get("attempt_number", 1)
        return EmbeddingServiceError(
            f"Der Embedding-Server {s.api_base} ist nicht verfügbar ({_reason_de(exc, s.api_timeout_s)}; "
            f"{tries} Versuch{'e' if tries != 1 else ''})."
        )

    # -- many texts ----------------------------------------------------------------------------
    def embed(self, texts: list[str]) -> list[list[float]]:
        size = max(1, self._settings.batch_size)
        batches = [texts[i : i + size] for i in range(0, len(texts), size)]
        if len(batches) <= 1:
            return self._request_with_retries(batches[0]) if batches else []
        out: list[list[float]] = []
        for part in self._pool.map(self._request_with_retries, batches):
            out += part
        return out

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.embed([self._settings.query_prefix + query])[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        prefix = self._settings.passage_prefix
        return self.embed([prefix + t for t in texts])

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


def _error_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body))
        if isinstance(error, dict):
            error = error.get("message", error)
        return str(error)[:300]
    return str(body)[:300]
