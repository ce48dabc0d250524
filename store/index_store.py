"""The index of one installation: Chroma (vectors) plus the SQLite catalog (manifest, chunk texts,
BM25 tokens). Chroma runs embedded (PersistentClient) or as a server (HttpClient), by setting."""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
import unicodedata

import chromadb
from chromadb.config import Settings as ChromaClientSettings
from llama_index.core.schema import MetadataMode, TextNode
from llama_index.vector_stores.chroma import ChromaVectorStore

from kreiswissen.http_retry import RetryTransport, retrying
from kreiswissen.schema import Chunk
from kreiswissen.settings import Settings

from .catalog import Catalog, generation_key

# What the embedder sees: the heading path, then the text. Other metadata stays out of the vector.
_EMBED_KEYS = ("heading",)


def chroma_name(collection: str, prefix: str = "kw") -> str:
    """Chroma allows [a-zA-Z0-9._-], 3-512 chars; user collection names are free German text."""
    ascii_name = unicodedata.normalize("NFKD", collection).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40]
    digest = hashlib.sha1(collection.encode()).hexdigest()[:8]
    return f"{prefix}-{slug}-{digest}" if slug else f"{prefix}-{digest}"


def chunk_to_node(chunk: Chunk, embedding: list[float] | None = None) -> TextNode:
    metadata = {
        "heading": chunk.heading_line,
        "doc_id": chunk.doc_id,
        "title": chunk.title,
        "section": chunk.section,
        "source_path": chunk.source_path,
        "position": chunk.position,
    }
    if chunk.page is not None:
        metadata["page"] = chunk.page
    if chunk.page_end is not None:
        metadata["page_end"] = chunk.page_end
    excluded = [k for k in metadata if k not in _EMBED_KEYS]
    return TextNode(
        id_=chunk.id,
        text=chunk.text,
        metadata=metadata,
        embedding=embedding,
        excluded_embed_metadata_keys=excluded,
        excluded_llm_metadata_keys=excluded,
        metadata_template="{value}",
        text_template="{metadata_str}\n{content}",
    )


def embed_text(chunk: Chunk) -> str:
    return chunk_to_node(chunk).get_content(metadata_mode=MetadataMode.EMBED)


def http_client(settings: Settings, client_settings: ChromaClientSettings) -> chromadb.api.ClientAPI:
    """A Chroma server client whose requests are retried with growing pauses (connection refused, 502,
    503, 504): a restarting server or a short network hiccup does not fail a question or an ingest."""
    c = settings.chroma
    for attempt in retrying(c.retries):  # connecting already talks to the server
        with attempt:
            client = chromadb.HttpClient(host=c.host, port=c.port, settings=client_settings)
    session = client._server._session  # the httpx.Client of chromadb's FastAPI client
    session._transport = RetryTransport(session._transport, c.retries)
    return client


class IndexStore:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.index_dir.mkdir(parents=True, exist_ok=True)
        self.catalog = Catalog(settings.index_dir / "catalog.sqlite")
        client_settings = ChromaClientSettings(anonymized_telemetry=False, allow_reset=False)
        if settings.chroma.mode == "http":
            self.client = http_client(settings, client_settings)
        else:
            self.client = chromadb.PersistentClient(
                path=str(settings.index_dir / "chroma"), settings=client_settings
            )
        self._stores: dict[str, ChromaVectorStore] = {}
        self._lock = threading.Lock()

    def vector_store(self, collection: str) -> ChromaVectorStore:
        with self._lock:
            if collection not in self._stores:
                chroma_collection = self.client.get_or_create_collection(
                    chroma_name(collection, self.settings.chroma.collection_prefix),
                    metadata={"hnsw:space": "cosine", "kreiswissen_name": collection},
                )
                self._stores[collection] = ChromaVectorStore(chroma_collection=chroma_collection)
            return self._stores[collection]

    def add_chunks(self, collection: str, chunks: list[Chunk], embeddings: list[list[float]]) -> None:
        if chunks:
            nodes = [chunk_to_node(c, e) for c, e in zip(chunks, embeddings, strict=True)]
            self.vector_store(collection).add(nodes)

    def delete_chunks(self, collection: str, ids: list[str]) -> None:
        for start in range(0, len(ids), 1000):
            self.vector_store(collection).delete_nodes(node_ids=ids[start : start + 1000])

    def _chroma(self, collection: str) -> chromadb.Collection:
        """The Chroma collection behind a vector store (LlamaIndex keeps it private): the one place
        that reaches into ChromaVectorStore."""
        return self.vector_store(collection)._collection

    def embeddings(self, collection: str, ids: list[str]) -> dict[str, list[float]]:
        """The stored vectors of these chunks (those the store holds), by chunk id."""
        got = self._chroma(collection).get(ids=ids, include=["embeddings"])
        return dict(zip(got["ids"], got["embeddings"], strict=True))

    def vector_ids(self, collection: str) -> set[str]:
        return set(self._chroma(collection).get(include=[])["ids"])

    def vector_count(self, collection: str) -> int:
        return self._chroma(collection).count()

    def reconcile(self, collection: str) -> int:
        """Remove vectors the catalog does not know (left by an interrupted run); return how many."""
        orphans = sorted(self.vector_ids(collection) - set(self.catalog.chunk_ids(collection)))
        self.delete_chunks(collection, orphans)
        return len(orphans)

    def forget(self, collection: str) -> None:
        """Forget the cached handle of a collection; the next access opens it anew."""
        with self._lock:
            self._stores.pop(collection, None)

    def drop(self, collection: str) -> None:
        """Remove a collection with all its generations. Catalog rows go first: a crash in between
        leaves vectors nobody reads (removed by the next run), never catalog rows without vectors,
        which later runs would skip as unchanged."""
        generation = self.catalog.generation(collection)
        self.catalog.drop_collection(collection)
        for g in range(generation + 2):  # up to a rebuild's unfinished generation
            self._delete_vectors(generation_key(collection, g))

    def discard(self, key: str) -> None:
        """Remove one generation (catalog rows first, then vectors); the collection stays."""
        self.catalog.drop_rows(key)
        self._delete_vectors(key)

    def _delete_vectors(self, key: str) -> None:
        # chroma raises different errors for "does not exist" across versions
        with contextlib.suppress(Exception):
            self.client.delete_collection(chroma_name(key, self.settings.chroma.collection_prefix))
        with self._lock:
            self._stores.pop(key, None)
