"""The one answer pipeline: retrieve → gate → extract → generate → verify facts → Answer.

The extract (sentences quoted from the top sources) comes within the retrieval step, before any
generation; the generator reads only those sentences and their neighbours, and its text is shown
only where every fact in it checks out against the cited source. Otherwise the extract is the answer.
The CLI, the web UI and the eval harness all call this service.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Generator as Generator_
from collections.abc import Iterator
from dataclasses import dataclass

from embedding.backends import build_embed_model
from kreiswissen.schema import Answer, Extract, Source
from kreiswissen.settings import Settings
from store.index_store import IndexStore
from text.german_text import load_splitter
from text.topic_words import zipf

from .access import NotReadable, User
from .audit_log import AuditLog
from .extract import Unit, load_units, pick_extract, prompt_passages, score_units
from .followup import is_followup, with_previous
from .generation_queue import GenerationQueue
from .generator import Generator, GeneratorCrashed, build_generator
from .injection import WARNING as INJECTION_WARNING
from .injection import injection_followed, without_instructions
from .prompt import REFUSAL, answer_messages, source_block, topic_refusal, weak_notice
from .relevance_gate import Relevance, assess, without_asked_fact
from .retrieval import HybridRetriever, Retrieved
from .verification import is_refusal, verify_answer

log = logging.getLogger(__name__)

ALL_COLLECTIONS = "*"  # ask across every collection

NOTICE_UNVERIFIED = (
    "Die formulierte Antwort des Sprachmodells ließ sich nicht vollständig mit den Quellen belegen und "
    "wird daher nicht angezeigt. Maßgeblich ist die zitierte Fundstelle."
)
NOTICE_MODEL_REFUSED = (
    "Das Sprachmodell konnte aus den Fundstellen keine Antwort formulieren. Bitte prüfen Sie die "
    "zitierte Fundstelle; sie ist die passendste Stelle in den Dokumenten."
)
NOTICE_PARTLY = "Einzelne Aussagen ließen sich nicht mit den Quellen belegen und wurden weggelassen."


def not_backed(dropped: list[tuple[str, str]], limit: int = 2) -> str:
    """Names the claims that were not shown and why ("„…“ – „mindestens“ statt „höchstens“ …")."""
    named = "; ".join(f"„{claim}“ – {reason}" for claim, reason in dropped[:limit])
    more = f" (und {len(dropped) - limit} weitere)" if len(dropped) > limit else ""
    return f"Nicht belegt durch die zitierte Stelle: {named}{more}."


NOTICE_TIMEOUT = "Das Sprachmodell hat zu lange gebraucht. Maßgeblich ist die zitierte Fundstelle."
NOTICE_SOURCE_COUNTS = "Maßgeblich ist die zitierte Fundstelle aus den Dokumenten."
NOTICE_FAILED = (
    "Das Sprachmodell ist gerade nicht erreichbar. Maßgeblich ist die zitierte Fundstelle aus den Dokumenten."
)


_RANK = {"refused": 0, "weak": 1, "answer": 2}  # outcomes, worst to best
# An anaphoric question ("Wer ist dafür zuständig?") with the same outcome either way takes the earlier
# question into account only when that brings its best passage clearly closer (cosine).
FOLLOWUP_MIN_GAIN = 0.01


class GenerationTimeout(Exception):
    pass


@dataclass
class Event:
    """One step of a streamed answer: sources, the extract, queue positions, tokens, the checked answer."""

    kind: str  # "sources" | "extract" | "queued" | "token" | "answer"
    sources: list[Source] | None = None
    token: str = ""
    answer: Answer | None = None
    standalone_question: str | None = None  # the query searched, where the earlier question joined it
    context_question: str | None = None  # the earlier question taken into account, if any
    extract: Extract | None = None
    position: int = 0  # "queued": answers ahead of this one


class AnswerService:
    def __init__(self, settings: Settings, store: IndexStore | None = None) -> None:
        self.settings = settings
        self.store = store or IndexStore(settings)
        self.embed_model = build_embed_model(settings.embedding)
        self._retrievers: dict[str, HybridRetriever] = {}
        self._lock = threading.Lock()
        self._generator: Generator | None = None
        self.queue = GenerationQueue()
        self.audit = AuditLog.for_settings(settings) if settings.audit.enabled else None

    @property
    def generator(self) -> Generator:
        if self._generator is None:
            self._generator = build_generator(self.settings)
        return self._generator

    def warm(self) -> None:
        """Server start, not the first question: load the compound splitter, the word frequencies and
        each collection's BM25 engine (one search each), then the generator with the fixed system
        prompt evaluated."""
        if self.settings.retrieval.decompound:
            load_splitter()
        zipf("Verwaltung")  # the topic veto's German word list (~1 s to load)
        for name in self.collections():
            try:
                self.retrieve("Wie hoch ist die Gebühr für einen Antrag?", name)
            except Exception:  # a broken collection must not keep the model from loading
                log.exception("warming collection %s failed", name)
        self.generator.warm(answer_messages("", [])[:1])

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

    def retrieve(
        self,
        question: str,
        collection: str | None = None,
        top_k: int | None = None,
        allowed: set[str] | None = None,
    ) -> Retrieved:
        """Search one collection, or all of them with ALL_COLLECTIONS (merged by cosine). `allowed`: the
        collections the asking user may read (rag.access); None = all (operator CLI, eval)."""
        if collection != ALL_COLLECTIONS:
            name = collection or self.settings.collection
            if allowed is not None and name not in allowed:
                raise NotReadable(name)
            return self.retriever(name).retrieve(question, top_k)
        top_k = top_k or self.settings.retrieval.top_k
        started = time.perf_counter()
        merged = Retrieved(sources=[])
        ranked: list[tuple[float, Source]] = []
        absent: list[str] | None = None
        for name in self.collections():
            if allowed is not None and name not in allowed:
                continue
            part = self.retriever(name).retrieve(question, top_k)
            merged.dense |= part.dense
            merged.bm25 |= part.bm25
            absent = part.absent if absent is None else [w for w in absent if w in part.absent]
            # Fused scores are normalised within a collection; the cosine to the question is not.
            floor = min(part.dense.values(), default=0.0)
            ranked += [(part.dense.get(s.chunk.id, floor), s) for s in part.sources]
            if merged.query_embedding is None:
                merged.query_embedding = part.query_embedding
        ranked.sort(key=lambda pair: pair[0], reverse=True)
        merged.sources = [
            Source(number=i, chunk=s.chunk, score=score)
            for i, (score, s) in enumerate(ranked[:top_k], start=1)
        ]
        merged.absent = absent or []  # absent from every collection searched
        merged.seconds = time.perf_counter() - started
        return merged

    def answer(
        self,
        question: str,
        collection: str | None = None,
        history: list[str] | None = None,
        allowed: set[str] | None = None,
        user: User | None = None,
    ) -> Answer:
        final = None
        for event in self.stream(question, collection, history, allowed, user):
            if event.kind == "answer":
                final = event.answer
        assert final is not None
        return final

    def stream(
        self,
        question: str,
        collection: str | None = None,
        history: list[str] | None = None,
        allowed: set[str] | None = None,
        user: User | None = None,
    ) -> Iterator[Event]:
        """Answer `question`; `history` holds the earlier (standalone) questions of the conversation.
        `allowed` limits the collections searched (see retrieve); `user` is only for the audit log."""
        started = time.perf_counter()
        asked = " ".join(question.split())
        previous = history[-1] if history else None
        where = collection or self.settings.collection
        answered = False
        searched: Event | None = None
        try:
            for event in self._stream(asked, previous, collection, started, allowed):
                if event.kind == "sources":
                    searched = event
                elif event.kind == "answer" and event.answer is not None:
                    answer = event.answer
                    if searched is not None:
                        answer.standalone_question = searched.standalone_question
                        answer.context_question = searched.context_question
                    answer.timings["total"] = time.perf_counter() - started
                    answered = True
                    if self.audit:
                        self.audit.record(answer, where, user)
                yield event
        except BaseException as exc:  # failed, refused for access, or cancelled (generator closed)
            if self.audit and not answered:
                outcome = "cancelled" if isinstance(exc, GeneratorExit) else "failed"
                outcome = "denied" if isinstance(exc, NotReadable) else outcome
                self.audit.record_outcome(asked, where, outcome, time.perf_counter() - started, user)
            raise

    def extract(self, question: str, retrieved: Retrieved) -> Extract:
        """The instant extract: the best sentence units of the retrieved sources, quoted verbatim."""
        return self._extract(self.scored_units(question, retrieved))

    def scored_units(self, question: str, retrieved: Retrieved) -> list[Unit]:
        """All sentence units of the retrieved sources, scored against the question, best first."""
        stored = self.store.catalog.sentences(s.chunk.id for s in retrieved.sources)
        units = load_units(retrieved.sources, stored, self.embed_model.get_text_embedding_batch)
        return score_units(question, retrieved.query_embedding, units)

    @staticmethod
    def _extract(ranked: list[Unit]) -> Extract:
        # Never quote an instruction aimed at an AI as the answer.
        quotable = without_instructions(ranked, lambda u: u.text, lambda u: u.source.chunk.text)
        return pick_extract(quotable)

    def _search(
        self, question: str, previous: str | None, collection: str | None, allowed: set[str] | None
    ) -> tuple[Retrieved, Relevance, str, str | None]:
        """Retrieve for the question; where it cannot stand alone (no clear match, or a clear anaphor
        such as "Und was kostet das?"), also for the previous question with it, and keep that when it
        retrieves better. Returns (retrieved, relevance, the query searched, the earlier question
        taken into account or None)."""
        retrieved = self.retrieve(question, collection, allowed=allowed)
        relevance = assess(question, retrieved, self.settings.retrieval)
        anaphoric = is_followup(question)
        if previous and (relevance.outcome != "answer" or anaphoric):
            combined = with_previous(question, previous)
            second = self.retrieve(combined, collection, allowed=allowed)
            second_relevance = assess(combined, second, self.settings.retrieval)
            second.seconds += retrieved.seconds
            gain = _RANK[second_relevance.outcome] - _RANK[relevance.outcome]
            closer = second_relevance.best_dense > relevance.best_dense + FOLLOWUP_MIN_GAIN
            if gain > 0 or (anaphoric and gain == 0 and closer):
                return second, second_relevance, combined, previous
            retrieved.seconds = second.seconds
        return retrieved, relevance, question, None

    def _stream(
        self,
        asked: str,
        previous: str | None,
        collection: str | None,
        started: float,
        allowed: set[str] | None,
    ) -> Iterator[Event]:
        with self.queue.searching():  # a generation that is about to start waits for this extract
            retrieved, relevance, question, context = self._search(asked, previous, collection, allowed)
            timings = {"retrieval": retrieved.seconds}
            yield Event(
                "sources",
                sources=retrieved.sources,
                standalone_question=question if context else None,
                context_question=context,
            )
            extract, ranked = Extract(evidence=[]), []
            if relevance.outcome != "refused":
                ranked = self.scored_units(question, retrieved)
                extract = self._extract(ranked)
                relevance = without_asked_fact(relevance, question, extract.text())
                extract.weak = relevance.outcome == "weak"
                timings["extract"] = time.perf_counter() - started
            if not extract.evidence:  # nothing relevant (or only instructions aimed at an AI)
                log.info(
                    "gate refused (dense %.3f, coverage %.2f, absent topic %r)",
                    relevance.best_dense,
                    relevance.coverage,
                    relevance.foreign,
                )
                text = topic_refusal(relevance.foreign) if relevance.foreign else REFUSAL
                yield Event(
                    "answer", answer=Answer(asked, text, retrieved.sources, refused=True, timings=timings)
                )
                return
        yield Event("extract", extract=extract)

        g = self.settings.generator
        answer = Answer(asked, extract.quoted(), retrieved.sources, extract=extract, timings=timings)
        answer.cited = list(dict.fromkeys(e.source_number for e in extract.evidence))
        if extract.weak:  # the nearest passages, shown as they are: no generated text
            log.info("weak match (dense %.3f, coverage %.2f)", relevance.best_dense, relevance.coverage)
            answer.notice = weak_notice(relevance.foreign)
            yield Event("answer", answer=answer)
            return
        try:
            generator = self.generator
            answer.model = generator.name
            passages = prompt_passages(ranked, g.context_budget, generator.count_tokens)
            messages = answer_messages(question, [source_block(src, text) for src, text in passages])
            timings["prompt_tokens"] = generator.prompt_tokens(messages)
            max_new = min(g.max_new_tokens, generator.context_window - int(timings["prompt_tokens"]))
            for position in self.queue.wait_turn():
                yield Event("queued", position=position)
            try:
                text = yield from self._generate(generator, messages, max_new, started, timings, answer)
            finally:
                self.queue.release()
        except GenerationTimeout:
            answer.notice = NOTICE_TIMEOUT
            yield Event("answer", answer=answer)
            return
        except GeneratorCrashed as exc:  # the model's child process died or hung: this answer only
            log.error("generation failed: %s", exc)
            answer.notice = f"{exc} {NOTICE_SOURCE_COUNTS}"
            yield Event("answer", answer=answer)
            return
        except Exception:
            log.exception("generation failed")
            answer.notice = NOTICE_FAILED
            yield Event("answer", answer=answer)
            return

        answer.model = generator.name
        answer.generated = text
        shown = [s for s in retrieved.sources if s.number in {src.number for src, _ in passages}]
        if reason := injection_followed(text, question, retrieved.sources):
            log.warning("generated answer withheld: %s", reason)
            answer.notice = f"{INJECTION_WARNING} ({reason})"
            yield Event("answer", answer=answer)
            return
        verdict = verify_answer(text, shown, question)
        if verdict.text and not verdict.unsupported_central:
            answer.text = verdict.text
            answer.verified = True
            answer.cited = verdict.cited
            answer.flagged = verdict.flagged
            answer.notice = f"{NOTICE_PARTLY} {not_backed(verdict.dropped)}" if verdict.dropped else ""
        else:
            answer.flagged = verdict.flagged
            answer.notice = (
                NOTICE_MODEL_REFUSED
                if is_refusal(text)
                else " ".join(
                    [NOTICE_UNVERIFIED, not_backed(verdict.dropped)]
                    if verdict.dropped
                    else [NOTICE_UNVERIFIED]
                )
            )
        yield Event("answer", answer=answer)

    def _generate(
        self,
        generator: Generator,
        messages: list,
        max_new: int,
        started: float,
        timings: dict[str, float],
        answer: Answer,
    ) -> Generator_[Event, None, str]:
        """Stream tokens as events; stop at the time limit. Returns the generated text (also kept in
        `answer.generated`, so a stopped generation can still be inspected in the eval)."""
        limit = self.settings.generator.timeout_s
        text = ""
        gen_started = time.perf_counter()
        tokens = generator.stream(messages, max_new, self.settings.generator.temperature)
        try:
            for token in tokens:
                if not text and token.strip():
                    timings["first_token"] = time.perf_counter() - started
                text += token
                answer.generated = text
                yield Event("token", token=token)
                if time.perf_counter() - gen_started > limit:
                    raise GenerationTimeout
        finally:
            tokens.close()  # a cancelled answer (closed stream) stops the model at once
            timings["generation"] = time.perf_counter() - gen_started
            timings["generated_tokens"] = float(generator.count_tokens(text)) if text else 0.0
        return text
