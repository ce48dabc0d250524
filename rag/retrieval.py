"""Hybrid retrieval: German BM25 and dense vectors, fused by reciprocal rank (RRF).

Both legs are LlamaIndex retrievers; the BM25 leg queries the FTS5 index that the ingest writes
into the catalog with the chunk rows, so it is persisted with the index and changes with it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from llama_index.core import VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from kreiswissen.schema import Source
from kreiswissen.settings import Settings
from store import bm25_index
from store.catalog import Catalog
from store.index_store import IndexStore
from text.german_text import analyze, compound_parts
from text.legal_refs import asks_about_transition, find_refs, is_transitional, law_matches
from text.topic_words import absent

from .rerank import best_sentence_cosine, reciprocal_rank_fusion, score_fusion


class BM25Retriever(BaseRetriever):
    """German BM25 over the catalog's persisted index (store/bm25_index.py): the in-memory engine reads
    only what changed since its last look, so a query right after an ingest costs about the same."""

    def __init__(self, catalog: Catalog, collection: str, top_k: int, decompound: bool = True) -> None:
        super().__init__()
        self.catalog = catalog
        self.collection = collection
        self._top_k = top_k
        self._decompound = decompound

    def _scored(self, query: str) -> tuple[bm25_index.SparseBM25, np.ndarray] | None:
        terms = analyze(query) + (compound_parts(query) if self._decompound else [])
        if not terms:
            return None
        engine = self.catalog.bm25_engine(self.collection)
        return engine, engine.scores(terms, self._decompound)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        scored = self._scored(query_bundle.query_str)
        if scored is None or not len(scored[1]):
            return []
        engine, scores = scored
        k = min(self._top_k, len(scores))
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [
            NodeWithScore(node=TextNode(id_=engine.ids[i]), score=float(scores[i]))
            for i in best
            if scores[i] > 0
        ]

    def ceiling(self, query: str) -> float:
        """The highest BM25 score this query can reach in the collection (see SparseBM25.ceiling)."""
        terms = analyze(query) + (compound_parts(query) if self._decompound else [])
        return self.catalog.bm25_engine(self.collection).ceiling(terms, self._decompound)

    def scores_for(self, query: str, ids: list[str]) -> dict[str, float]:
        """BM25 scores of given chunks (for candidates the BM25 leg itself did not rank)."""
        scored = self._scored(query)
        if scored is None:
            return dict.fromkeys(ids, 0.0)
        engine, scores = scored
        return {cid: float(scores[engine.by_id[cid]]) if cid in engine.by_id else 0.0 for cid in ids}

    def known(self, ids: list[str]) -> set[str]:
        return self.catalog.known_ids(self.collection, ids)


@dataclass
class Retrieved:
    sources: list[Source]
    dense: dict[str, float] = field(default_factory=dict)  # chunk id -> cosine similarity
    bm25: dict[str, float] = field(default_factory=dict)  # chunk id -> BM25 score
    seconds: float = 0.0
    query_embedding: list[float] | None = None  # re-used by the sentence-level scorer
    absent: list[str] = field(default_factory=list)  # the question's nouns the collection never uses


class HybridRetriever:
    """Retrieval for one collection (BM25 from the catalog's FTS5 index, dense from Chroma); follows
    the collection to a new generation when a full rebuild switched it (see Catalog.current_key)."""

    def __init__(self, settings: Settings, store: IndexStore, embed_model: BaseEmbedding, collection: str):
        self.settings = settings
        self.store = store
        self.collection = collection
        self.embed_model = embed_model
        self._bm25: BM25Retriever | None = None
        self._lock = threading.Lock()
        self.key = ""  # the generation being read
        self._dense: BaseRetriever | None = None
        self._follow()

    def _follow(self) -> str:
        """The current generation's key; opens its vectors when a rebuild has switched it."""
        key = self.store.catalog.current_key(self.collection)
        with self._lock:
            if key != self.key or self._dense is None:
                store = self.store.vector_store(key)
                index = VectorStoreIndex.from_vector_store(store, embed_model=self.embed_model)
                self._dense = index.as_retriever(similarity_top_k=self.settings.retrieval.candidates)
                self.key, self._bm25 = key, None
        return key

    def _bm25_leg(self, key: str) -> BM25Retriever:
        with self._lock:
            if self._bm25 is None or self._bm25.collection != key:
                r = self.settings.retrieval
                self._bm25 = BM25Retriever(self.store.catalog, key, r.candidates, r.decompound)
            return self._bm25

    def retrieve(self, query: str, top_k: int | None = None) -> Retrieved:
        try:
            return self._retrieve(query, top_k)
        except Exception:
            # A full rebuild switched to a new generation and removed the one this query was
            # reading: ask again, now of the new one (any other error is raised as it is).
            if self.store.catalog.current_key(self.collection) == self.key:
                raise
            return self._retrieve(query, top_k)

    def _retrieve(self, query: str, top_k: int | None) -> Retrieved:
        started = time.perf_counter()
        r = self.settings.retrieval
        top_k = top_k or r.top_k
        key = self._follow()
        dense_leg = self._dense
        assert dense_leg is not None
        bm25_leg = self._bm25_leg(key)
        bundle = QueryBundle(query)
        if r.mode != "bm25":
            bundle.embedding = self.embed_model.get_query_embedding(query)
        bm25: dict[str, float] = {}
        dense: dict[str, float] = {}
        if r.mode != "dense":
            bm25 = {n.node.node_id: n.score or 0.0 for n in bm25_leg.retrieve(bundle)}
        if r.mode != "bm25":
            # Vectors the catalog does not know are leftovers of an interrupted ingest: ignore them.
            found = {n.node.node_id: _cosine(n.score) for n in dense_leg.retrieve(bundle)}
            known = bm25_leg.known(list(found))
            dense = {cid: score for cid, score in found.items() if cid in known}
        fused = reciprocal_rank_fusion((dense, r.dense_weight), (bm25, r.bm25_weight))
        pinned = self._legal_ref_hits(query, key) if r.legal_refs else []
        chunks = {c.id: c for c in self.store.catalog.chunks(key, [*fused, *pinned])}
        if r.rerank and r.mode == "hybrid" and fused:
            fused = self._second_stage(query, bundle.embedding or [], fused, bm25, bm25_leg, key)
            if r.rerank_heading_weight:
                matches = self._heading_matches(
                    query, key, {cid: chunks[cid].section for cid in fused if cid in chunks}
                )
                for cid, share in matches.items():
                    fused[cid] += r.rerank_heading_weight * share
            if r.transitional_penalty and not asks_about_transition(query):
                for cid in fused:
                    if cid in chunks and is_transitional(chunks[cid].section):
                        fused[cid] -= r.transitional_penalty
        ranked = sorted(fused, key=fused.__getitem__, reverse=True)
        best = list(dict.fromkeys([*pinned, *ranked]))[:top_k]
        top_score = max(fused.values(), default=1.0)
        sources = [
            Source(number=i, chunk=chunks[cid], score=fused.get(cid, top_score))
            for i, cid in enumerate((c for c in best if c in chunks), start=1)
        ]
        return Retrieved(
            sources=sources,
            dense=dense,
            bm25=bm25,
            seconds=time.perf_counter() - started,
            query_embedding=bundle.embedding,
            absent=absent(query, self.store.catalog.bm25_engine(key).occurs),
        )

    def _second_stage(
        self,
        query: str,
        query_embedding: list[float],
        fused: dict[str, float],
        bm25: dict[str, float],
        leg,
        key: str,
    ) -> dict[str, float]:
        ids = list(fused)
        embeddings = self.store.embeddings(key, ids)
        missing = [cid for cid in ids if cid not in bm25]
        scores = bm25 | leg.scores_for(query, missing)
        r = self.settings.retrieval
        sentences = (
            best_sentence_cosine(query_embedding, self.store.catalog.sentences(ids))
            if r.rerank_sentence_weight > 0
            else {}
        )
        return score_fusion(
            query_embedding,
            embeddings,
            scores,
            r.rerank_dense_weight,
            sentences,
            r.rerank_sentence_weight,
            bm25_ceiling=leg.ceiling(query) if r.rerank_bm25_ceiling else None,
        )

    def _heading_matches(self, query: str, key: str, sections: dict[str, str]) -> dict[str, float]:
        """Per chunk, the share of the question's words (by their specificity in the collection) that
        its own section headings carry: "Gebrauchtwagen" meets "Umschreibung von Gebrauchtfahrzeugen"
        in "gebraucht", a word few sections use, while "Zulassung" heads half the handbook."""
        engine = self.store.catalog.bm25_engine(key)
        terms = set(analyze(query)) | set(compound_parts(query))
        weight = {t: engine.idf(t) for t in terms}
        total = sum(weight.values())
        if not total:
            return {}
        out = {}
        for cid, section in sections.items():
            heading = set(analyze(section)) | set(compound_parts(section))
            out[cid] = sum(w for t, w in weight.items() if t in heading) / total
        return out

    def _legal_ref_hits(self, query: str, key: str) -> list[str]:
        """Chunks of the sections a question names explicitly ("§ 6 FZV"), in document order."""
        hits: list[str] = []
        for ref in find_refs(query, self.settings.retrieval.legal_parser):
            rows = [
                row
                for heading in ref.headings  # "Art. 6" is also headed "Artikel 6"
                for row in self.store.catalog.section_chunks(key, heading)
            ]
            matching = [
                row
                for row in rows
                if any(
                    p == h or p.startswith(h + " ") for p in row["section"].split(" › ") for h in ref.headings
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
