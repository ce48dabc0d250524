"""Decides before generation how well the retrieved sources match the question: three outcomes.

- "answer": a clear match. The extract is shown and the generator formulates an answer from it.
- "weak": something matches, but not clearly. The nearest passages are shown as they are ("Keine
  eindeutige Fundstelle – die ähnlichsten Stellen"), without generated text: a matching passage is
  never hidden, and a small model is never asked to answer from passages that may not hold the answer.
- "refused": nothing relevant at all. Only then does the user see no passage.

Two signals, either suffices for each bar: the best dense similarity, and the share of the question's
content words (stemmed) that occur in the top sources. A question naming an uncommon noun that no
document uses ("Carport", "Fischereischein") is at most a weak match, never a clear one: everyday words
("Hofhund", "Brechdurchfall") often are just not the documents' wording, so such a word alone hides
nothing. Nor is a match clear whose extract lacks the kind of fact the question asks for (an amount,
a duration, a deadline): on-topic questions about what the documents do not say ("Was kostet bei uns
…?" against a law without fees) look like answerable ones to both signals. Thresholds are settings,
calibrated with `kreiswissen eval` on the eval sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from kreiswissen.settings import RetrievalSettings
from text.german_text import analyze
from text.topic_words import zipf

from .extract import holds_asked_fact
from .retrieval import Retrieved

Outcome = Literal["answer", "weak", "refused"]


@dataclass
class Relevance:
    best_dense: float
    coverage: float
    outcome: Outcome
    foreign: list[str] = field(default_factory=list)  # uncommon nouns of the question no document uses

    @property
    def relevant(self) -> bool:
        """A clear match: the generator may answer."""
        return self.outcome == "answer"


def without_asked_fact(relevance: Relevance, question: str, extract_text: str) -> Relevance:
    """A clear match whose extract lacks the kind of fact the question asks for (an amount, a
    duration, a deadline) is only a weak one: the model would have to invent it."""
    if relevance.outcome == "answer" and not holds_asked_fact(question, extract_text):
        return replace(relevance, outcome="weak")
    return relevance


def foreign_topics(retrieved: Retrieved, settings: RetrievalSettings) -> list[str]:
    """The question's nouns absent from the collection that German does not use commonly."""
    return [w for w in retrieved.absent if zipf(w) < settings.gate_max_zipf]


def assess(question: str, retrieved: Retrieved, settings: RetrievalSettings) -> Relevance:
    foreign = foreign_topics(retrieved, settings)
    if not retrieved.sources:
        return Relevance(0.0, 0.0, "refused", foreign)
    best_dense = max((retrieved.dense.get(s.chunk.id, 0.0) for s in retrieved.sources), default=0.0)
    terms = set(analyze(question))
    found: set[str] = set()
    for s in retrieved.sources[:3]:
        found |= set(analyze(f"{s.chunk.heading_line}\n{s.chunk.text}"))
    coverage = len(terms & found) / len(terms) if terms else 0.0

    def passes(min_dense: float, min_coverage: float) -> bool:
        # Without a dense leg (retrieval.mode = "bm25") only the word coverage can decide.
        dense_ok = best_dense >= min_dense if retrieved.dense else False
        return dense_ok or coverage >= min_coverage

    if passes(settings.gate_min_dense, settings.gate_min_coverage) and not foreign:
        outcome: Outcome = "answer"
    elif passes(settings.gate_weak_dense, settings.gate_weak_coverage):
        outcome = "weak"
    else:
        outcome = "refused"
    return Relevance(best_dense, coverage, outcome, foreign)
