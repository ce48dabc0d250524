"""Decides before generation whether the retrieved sources can answer the question at all.

First a veto: a question whose topic the collection never mentions — an uncommon noun that occurs in
no chunk, neither whole nor as all its compound parts ("Carport", "Fischereischein") — is refused,
and the refusal names the word. Then two signals, either suffices: the best dense similarity, and the
share of the question's content words (stemmed) that occur in the top sources. Thresholds are
settings, calibrated with `kreiswissen eval` on the unanswerable questions of the eval sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kreiswissen.settings import RetrievalSettings
from text.german_text import analyze
from text.topic_words import zipf

from .retrieval import Retrieved


@dataclass
class Relevance:
    best_dense: float
    coverage: float
    relevant: bool
    foreign: list[str] = field(default_factory=list)  # uncommon nouns of the question no document uses


def foreign_topics(retrieved: Retrieved, settings: RetrievalSettings) -> list[str]:
    """The question's nouns absent from the collection that German does not use commonly."""
    return [w for w in retrieved.absent if zipf(w) < settings.gate_max_zipf]


def assess(question: str, retrieved: Retrieved, settings: RetrievalSettings) -> Relevance:
    foreign = foreign_topics(retrieved, settings)
    if not retrieved.sources:
        return Relevance(0.0, 0.0, False, foreign)
    best_dense = max((retrieved.dense.get(s.chunk.id, 0.0) for s in retrieved.sources), default=0.0)
    terms = set(analyze(question))
    found: set[str] = set()
    for s in retrieved.sources[:3]:
        found |= set(analyze(f"{s.chunk.heading_line}\n{s.chunk.text}"))
    coverage = len(terms & found) / len(terms) if terms else 0.0
    # Without a dense leg (retrieval.mode = "bm25") only the word coverage can decide.
    dense_ok = best_dense >= settings.gate_min_dense if retrieved.dense else False
    relevant = not foreign and (dense_ok or coverage >= settings.gate_min_coverage)
    return Relevance(best_dense, coverage, relevant, foreign)
