"""The one answer pipeline: retrieve → gate → generate → verify citations → Answer.

The CLI, the web UI and the eval harness all call this service.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from kreiswissen.schema import Answer, Source
from kreiswissen.settings import Settings

from .audit_log import AuditLog
from .citation_check import check_citations
from .embedding import build_embed_model
from .followup import rewrite
from .generator import Generator, build_generator
from .index_store import IndexStore
from .prompt import REFUSAL, answer_messages, source_block
from .relevance_gate import assess
from .retrieval import RRF_K, HybridRetriever, Retrieved

log = logging.getLogger(__name__)

ALL_COLLECTIONS = "*"  # ask across every collection
_REFUSAL_MARKERS = ("nichts gefunden", "keine informationen", "nicht beantworten", "nicht in den quellen")


@dataclass
class Event:
    """One step of a streamed answer: sources first, then tokens, then the checked answer."""

    kind: str  # "sources" | "token" | "answer"
    sources: list[Source] | None = None
    token: str = ""
    answer: Answer | None = None
    standalone_question: str | None = None


class AnswerService:
    def __init__(self, settings: Settings, store: IndexStore | None = None) -> None:
        self.settings = settings
        self.store = store or IndexStore(settings)
        self.embed_model = build_embed_model(settings.embedding)
        self._retrievers: dict[str, HybridRetriever] = {}
        self._lock = threading.Lock()
        self._generator: Generator | None = None
        audit = settings.audit
        self.audit = AuditLog(settings.audit_path, audit.log_questions) if audit.enabled else None

    @property
    def generator(self) -> Generator:
        if self._generator is None:
            self._generator = build_generator(self.settings)
        return self._generator

    def retriever(self, collection: str | None = None) -> HybridRetriever:
        collection = collection or self.settings.collection
        with self._lock:
            if collection not in self._retrievers:
                self._retrievers[collection] = HybridRetriever(
                    self.settings, self.store, self.embed_model, collection
                )
            return self._retrievers[collection]

    def forget(self, collection: str) -> None:
        """Drop the cached retriever of a collection (after a full rebuild replaced its store)."""
        with self._lock:
            self._retrievers.pop(collection, None)
        self.store.forget(collection)

    def collections(self) -> list[str]:
        return [c["name"] for c in self.store.catalog.collections()]

    def retrieve(self, question: str, collection: str | None = None, top_k: int | None = None) -> Retrieved:
        """Search one collection, or all of them with ALL_COLLECTIONS (merged by rank)."""
        if collection != ALL_COLLECTIONS:
            return self.retriever(collection).retrieve(question, top_k)
        top_k = top_k or self.settings.retrieval.top_k
        started = time.perf_counter()
        merged = Retrieved(sources=[])
        ranked: list[tuple[float, Source]] = []
        for name in self.collections():
            part = self.retriever(name).retrieve(question, top_k)
            merged.dense |= part.dense
            merged.bm25 |= part.bm25
            ranked += [(1.0 / (RRF_K + s.number), s) for s in part.sources]
        ranked.sort(key=lambda pair: pair[0], reverse=True)
        merged.sources = [
            Source(number=i, chunk=s.chunk, score=score)
            for i, (score, s) in enumerate(ranked[:top_k], start=1)
        ]
        merged.seconds = time.perf_counter() - started
        return merged

    def answer(
        self, question: str, collection: str | None = None, history: list[str] | None = None
    ) -> Answer:
        final = None
        for event in self.stream(question, collection, history):
            if event.kind == "answer":
                final = event.answer
        assert final is not None
        return final

    def stream(
        self, question: str, collection: str | None = None, history: list[str] | None = None
    ) -> Iterator[Event]:
        """Answer `question`; `history` holds the earlier (standalone) questions of the conversation."""
        started = time.perf_counter()
        asked = " ".join(question.split())
        standalone = rewrite(asked, history or [])
        for event in self._stream(asked, standalone or asked, collection, started):
            if event.kind == "sources":
                event.standalone_question = standalone
            elif event.kind == "answer" and event.answer is not None:
                answer = event.answer
                answer.standalone_question = standalone
                answer.timings["total"] = time.perf_counter() - started
                if self.audit:
                    self.audit.record(answer, collection or self.settings.collection)
            yield event

    def _stream(self, asked: str, question: str, collection: str | None, started: float) -> Iterator[Event]:
        retrieved = self.retrieve(question, collection)
        timings = {"retrieval": retrieved.seconds}
        yield Event("sources", sources=retrieved.sources)

        relevance = assess(question, retrieved, self.settings.retrieval)
        if not relevance.relevant:
            log.info("gate refused (dense %.3f, coverage %.2f)", relevance.best_dense, relevance.coverage)
            yield Event(
                "answer", answer=Answer(asked, REFUSAL, retrieved.sources, refused=True, timings=timings)
            )
            return

        g = self.settings.generator
        generator = self.generator
        shown, blocks = self._fit_context(question, retrieved.sources, generator)
        messages = answer_messages(question, blocks)
        max_new = min(g.max_new_tokens, generator.context_window - generator.prompt_tokens(messages))
        text = ""
        gen_started = time.perf_counter()
        for token in generator.stream(messages, max_new, g.temperature):
            if not text and token.strip():
                timings["first_token"] = time.perf_counter() - started
            text += token
            yield Event("token", token=token)
        timings["generation"] = time.perf_counter() - gen_started

        if any(marker in text.lower() for marker in _REFUSAL_MARKERS) and len(text) < 300:
            answer = Answer(asked, REFUSAL, retrieved.sources, refused=True, model=generator.name)
        else:
            report = check_citations(text, shown)
            answer = Answer(
                asked,
                report.text,
                retrieved.sources,
                cited=report.cited,
                flagged=report.flagged + report.invalid,
                model=generator.name,
            )
        answer.timings = timings
        yield Event("answer", answer=answer)

    def _fit_context(
        self, question: str, sources: list[Source], generator: Generator
    ) -> tuple[list[Source], list[str]]:
        """Source blocks within the token budget and the model's window; the last one may be cut."""
        g = self.settings.generator
        fixed = generator.prompt_tokens(answer_messages(question, []))
        budget = min(g.context_budget, generator.context_window - g.max_new_tokens - fixed)
        shown: list[Source] = []
        blocks: list[str] = []
        used = 0
        for source in sources:
            block = source_block(source)
            cost = generator.count_tokens(block) + 2
            if used + cost > budget:
                room = budget - used - generator.count_tokens(source_block(source, "")) - 2
                if room < 60:
                    break
                text = _cut_to_tokens(source.chunk.text, room, generator)
                block, cost = source_block(source, text), room
            shown.append(source)
            blocks.append(block)
            used += cost
            if used >= budget:
                break
        return shown, blocks


def _cut_to_tokens(text: str, tokens: int, generator: Generator) -> str:
    """Longest prefix of whole sentences (or words) within the token count."""
    words = text.split()
    lo, hi = 0, len(words)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if generator.count_tokens(" ".join(words[:mid]) + " …") <= tokens:
            lo = mid
        else:
            hi = mid - 1
    cut = " ".join(words[:lo])
    end = max(cut.rfind(". "), cut.rfind(".\n"))
    return (cut[: end + 1] if end > len(cut) // 2 else cut) + " …"
