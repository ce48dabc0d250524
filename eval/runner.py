"""Runs a question set through the one answer pipeline and records what happened per question."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from ingest.service import IngestReport, IngestService
from kreiswissen.settings import Settings
from rag.answer_service import AnswerService
from rag.relevance_gate import assess, without_asked_fact
from rag.retrieval import Retrieved
from text.facts import unsupported_quantities

from .metrics import key_fact_hits

RETRIEVE_K = 10  # enough for hit@10; the answer itself uses retrieval.top_k
RETRIEVED_NAMES = {"number": "rank", "doc_id": "doc"}  # the keys of a retrieved source in result files


def load_questions(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if "question" not in row:
            raise ValueError(f"{path}:{n}: missing 'question'")
        row.setdefault("id", f"q{n:03d}")
        row.setdefault("answerable", bool(row.get("doc")))
        rows.append(row)
    return rows


def apply_overrides(settings: Settings, overrides: list[str]) -> Settings:
    """`retrieval.top_k=8`-style overrides on top of the current settings."""
    data = settings.model_dump()
    for spec in overrides:
        key, sep, value = spec.partition("=")
        if not sep:
            raise ValueError(f"expected KEY=VALUE, got {spec!r}")
        target = data
        *parents, leaf = key.strip().split(".")
        for part in parents:
            target = target[part]
        if leaf not in target:
            raise ValueError(f"unknown setting {key!r}")
        target[leaf] = value
    return Settings.model_validate(data)


def eval_index_dir(settings: Settings, corpus: Path) -> Path:
    """One cached index per corpus, embedder and chunking, so repeated runs only re-check files."""
    r, e = settings.retrieval, settings.embedding
    key = f"{corpus.resolve()}|{e.backend}|{e.model_path}|{e.query_prefix}|{r.chunk_size}|{r.chunk_min}"
    if e.backend == "openai":  # two embedding servers are two vector spaces
        key += f"|{e.api_base}|{e.api_model}"
    return settings.data_dir / "eval-index" / hashlib.sha1(key.encode()).hexdigest()[:12]


def prepare_index(settings: Settings, corpus: Path, index_dir: Path | None) -> tuple[Settings, IngestReport]:
    index_dir = index_dir or eval_index_dir(settings, corpus)
    settings = settings.model_copy(update={"data_dir": index_dir, "collection": "eval"})
    report = IngestService(settings).ingest([corpus])
    return settings, report


def run_questions(
    settings: Settings,
    questions: list[dict],
    retrieval_only: bool,
    on_done: Callable[[dict], None] | None = None,
    allowed: set[str] | None = None,
) -> list[dict]:
    """`allowed`: the collections of the user the run acts as (`--as-user`); None = all."""
    service = AnswerService(settings)
    rows = []
    for q in questions:
        retrieved = service.retrieve(
            q["question"], top_k=max(RETRIEVE_K, settings.retrieval.top_k), allowed=allowed
        )
        gate = assess(q["question"], retrieved, settings.retrieval)
        row: dict[str, Any] = {
            "id": q["id"],
            "question": q["question"],
            "doc": q.get("doc"),
            "section": q.get("section"),
            "page": q.get("page"),
            "answerable": q["answerable"],
            "mode": "retrieval" if retrieval_only else "full",
            "retrieved": [
                s.to_dict("number", "doc_id", "section", "page", "page_end", rename=RETRIEVED_NAMES)
                | {
                    "score": round(s.score, 5),
                    "dense": round(retrieved.dense.get(s.chunk.id, 0.0), 4),
                    "bm25": round(retrieved.bm25.get(s.chunk.id, 0.0), 3),
                }
                for s in retrieved.sources
            ],
            # every signal the gate computes: the report calibrates thresholds from these
            "gate": {k: v for k, v in asdict(gate).items() if isinstance(v, bool | int | float | str | list)},
            "timings": {"retrieval": retrieved.seconds},
            "key_facts": q.get("key_facts"),
            "reference_answer": q.get("answer"),
        }
        # The sources the answer is built from: the top_k of the same retrieval the pipeline runs.
        top = replace(retrieved, sources=retrieved.sources[: settings.retrieval.top_k])
        if retrieval_only:
            # The gate's outcome, as the answer path decides it (the weak one shows the extract too).
            row["outcome"] = gate.outcome
            row["refused"] = gate.outcome == "refused"
            extract = None if row["refused"] else _extract_text(service, q["question"], top, row["timings"])
            row["extract"] = extract or ""
            row["refused"] = row["refused"] or not extract  # no passage shown
            gate = without_asked_fact(gate, q["question"], row["extract"])
            row["outcome"] = "refused" if row["refused"] else gate.outcome
            texts = {"extract": row["extract"], "answer": row["extract"]}
            shown_sources = top.sources
        else:
            answer = service.answer(q["question"], allowed=allowed)
            extract = answer.extract
            row |= (
                answer.to_dict("answer", "outcome")
                | {"extract": extract.text() if extract is not None else ""}  # what the user sees
                | answer.to_dict(
                    "generated",
                    "verified",
                    "notice",
                    "refused",
                    "cited",
                    "flagged",
                    "model",
                    "timings",
                    source_fields=("number", "doc_id", "section"),
                    source_rename={"doc_id": "doc"},
                )
            )
            row["shown"] = answer.shown_text()  # the extract's quotes and the verified answer
            texts = {"extract": row["extract"], "generated": row["generated"], "answer": row["shown"]}
            shown_sources = answer.sources
        source_texts = [f"{s.chunk.heading_line}\n{s.chunk.text}" for s in shown_sources]
        row["contradicted"] = {
            name: [found.raw for found in unsupported_quantities(text, source_texts, q["question"])]
            for name, text in texts.items()
            if text is not None
        }
        if (found := key_fact_hits(row)) is not None:
            row["key_facts_found"] = found  # per measured text, one flag per key fact
        rows.append(row)
        if on_done:
            on_done(row)
    return rows


def _extract_text(
    service: AnswerService, question: str, retrieved: Retrieved, timings: dict[str, float] | None
) -> str | None:
    """The extract of the retrieved sources, where the answer service offers one (None otherwise)."""
    extract_fn = getattr(service, "extract", None)
    if extract_fn is None or not retrieved.sources:
        return None
    started = time.perf_counter()
    extract = extract_fn(question, retrieved)
    if timings is not None:
        timings["extract"] = time.perf_counter() - started
    return extract.text()
