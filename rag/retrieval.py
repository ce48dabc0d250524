"""Hybrid retrieval: German BM25 and dense vectors, fused by reciprocal rank (RRF).

Both legs are LlamaIndex retrievers; the BM25 leg reads the tokens the ingest stored in the
catalog, so it is persisted with the index and changes with it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from llama_index.core import VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
from rank_bm25 import BM25Okapi

from kreiswissen.schema import Source
from kreiswissen.settings import Settings

from .german_text import analyze
from .index_store import IndexStore
from .legal_refs import find_refs, law_matches
from .rerank import score_fusion

RRF_K = 60  # the constant of Cormack et al. (2009)


class BM25Retriever(BaseRetriever):
    def __init__(self, ids: list[str], tokens: list[list[str]], top_k: int) -> None:
        super().__init__()
        self._ids = ids
        self._index = {cid: i for i, cid in enumerate(ids)}
        self._bm25 = BM25Okapi(tokens) if ids else None
        self._top_k = top_k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        terms = analyze(query_bundle.query_str)
        if self._bm25 is None or not terms:
            return []
        scores = self._bm25.get_scores(terms)
        best = sorted(range(len(scores)), key=lambda i: -scores[i])[: self._top_k]
        return [
            NodeWithScore(node=TextNode(id_=self._ids[i]), score=float(scores[i]))
            for i in best
            if scores[i] > 0
        ]

    def scores_for(self, query: str, ids: list[str]) -> dict[str, float]:
        """BM25 scores of given chunks (for candidates the BM25 leg itself did not rank)."""
        terms = analyze(query)
        known = [cid for cid in ids if cid in self._index]
        if self._bm25 is None or not terms or not known:
            return dict.fromkeys(ids, 0.0)
        scores = self._bm25.get_batch_scores(terms, [self._index[cid] for cid in known])
        return dict.fromkeys(ids, 0.0) | {cid: float(s) for cid, s in zip(known, scores, strict=True)}


@dataclass
class Retrieved:
    sources: list[Source]
    dense: dict[str, float] = field(default_factory=dict)  # chunk id -> cosine similarity
    bm25: dict[str, float] = field(default_factory=dict)  # chunk id -> BM25 score
    seconds: float = 0.0


class HybridRetriever:
    """Retrieval for one collection; rebuilds its BM25 index when the catalog changes."""

    def __init__(self, settings: Settings, store: IndexStore, embed_model: BaseEmbedding, collection: str):
        self.settings = settings
        self.store = store
        self.collection = collection
        self.embed_model = embed_model
        self._version: tuple | None = None
        self._bm25: BM25Retriever | None = None
        self._known: set[str] = set()
        self._lock = threading.Lock()
        index = VectorStoreIndex.from_vector_store(store.vector_store(collection), embed_model=embed_model)
        self._dense = index.as_retriever(similarity_top_k=settings.retrieval.candidates)

    def _bm25_leg(self) -> BM25Retriever:
        version = self.store.catalog.version(self.collection)
        with self._lock:
            if self._bm25 is None or version != self._version:
                rows = self.store.catalog.tokens(self.collection)
                ids = [r[0] for r in rows]
                self._bm25 = BM25Retriever(
                    ids, [r[1].split() for r in rows], self.settings.retrieval.candidates
                )
                self._known = set(ids)
                self._version = version
            return self._bm25

    def retrieve(self, query: str, top_k: int | None = None) -> Retrieved:
        started = time.perf_counter()
        r = self.settings.retrieval
        top_k = top_k or r.top_k
        bm25_leg = self._bm25_leg()
        bundle = QueryBundle(query)
        if r.mode != "bm25":
            bundle.embedding = self.embed_model.get_query_embedding(query)
        bm25: dict[str, float] = {}
        dense: dict[str, float] = {}
        if r.mode != "dense":
            bm25 = {n.node.node_id: n.score or 0.0 for n in bm25_leg.retrieve(bundle)}
        if r.mode != "bm25":
            # Vectors the catalog does not know are leftovers of an interrupted ingest: ignore them.
            dense = {
                n.node.node_id: _cosine(n.score)
                for n in self._dense.retrieve(bundle)
                if n.node.node_id in self._known
            }
        fused: dict[str, float] = {}
        for ranking, weight in ((dense, r.dense_weight), (bm25, r.bm25_weight)):
            for rank, chunk_id in enumerate(sorted(ranking, key=ranking.__getitem__, reverse=True)):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (RRF_K + rank + 1)
        pinned = self._legal_ref_hits(query) if r.legal_refs else []
        chunks = {c.id: c for c in self.store.catalog.chunks(self.collection, [*fused, *pinned])}
        if r.rerank and r.mode == "hybrid" and fused:
            fused = self._second_stage(query, bundle.embedding or [], fused, bm25, bm25_leg)
        ranked = sorted(fused, key=fused.__getitem__, reverse=True)
        best = list(dict.fromkeys([*pinned, *ranked]))[:top_k]
        top_score = max(fused.values(), default=1.0)
        sources = [
            Source(number=i, chunk=chunks[cid], score=fused.get(cid, top_score))
            for i, cid in enumerate((c for c in best if c in chunks), start=1)
        ]
        return Retrieved(sources=sources, dense=dense, bm25=bm25, seconds=time.perf_counter() - started)

    def _second_stage(
        self, query: str, query_embedding: list[float], fused: dict[str, float], bm25: dict[str, float], leg
    ) -> dict[str, float]:
        ids = list(fused)
        got = self.store.vector_store(self.collection)._collection.get(ids=ids, include=["embeddings"])
        embeddings = dict(zip(got["ids"], got["embeddings"], strict=True))
        missing = [cid for cid in ids if cid not in bm25]
        scores = bm25 | leg.scores_for(query, missing)
        return score_fusion(query_embedding, embeddings, scores, self.settings.retrieval.rerank_dense_weight)

    def _legal_ref_hits(self, query: str) -> list[str]:
        """Chunks of the sections a question names explicitly ("§ 6 FZV"), in document order."""
        hits: list[str] = []
        for ref in find_refs(query):
            rows = self.store.catalog.db.execute(
                "SELECT id, doc_id, title, section FROM chunks WHERE collection=? AND section LIKE ? "
                "ORDER BY path, position",
                (self.collection, f"%{ref.section}%"),
            ).fetchall()
            matching = [
                row
                for row in rows
                if any(
                    p == ref.section or p.startswith(ref.section + " ") for p in row["section"].split(" › ")
                )
                and (ref.law is None or law_matches(ref.law, row["doc_id"], row["title"]))
            ]
            # Without a law name a "§ 6" is ambiguous across documents: pin it only if unique.
            if len({row["doc_id"] for row in matching}) == 1:
                hits += [row["id"] for row in matching[:3]]
        return hits


def _cosine(chroma_similarity: float | None) -> float:
    """LlamaIndex's Chroma store reports exp(-distance); with cosine space that is exp(cos - 1)."""
    import math

    return 1.0 + math.log(chroma_similarity) if chroma_similarity else 0.0
