"""Second-stage scoring of fused candidates without a cross-encoder (none ships its weights).

Caseworkers' questions usually name the topic of the section they need ("Tagegeld",
"Wohnungsgeber"), and German administrative texts put that topic into the heading. So the fused
rank score is combined with how much of the question the chunk's own heading and the document
title cover. Weights are fixed a priori, not fitted to any question set.
"""

from __future__ import annotations

from kreiswissen.schema import Chunk

from .german_text import analyze

HEADING_WEIGHT = 0.5
TITLE_WEIGHT = 0.25


def rerank(query: str, fused: dict[str, float], chunks: dict[str, Chunk]) -> dict[str, float]:
    terms = set(analyze(query))
    if not terms or not fused:
        return fused
    top = max(fused.values())
    scores = {}
    for chunk_id, score in fused.items():
        chunk = chunks.get(chunk_id)
        if chunk is None:
            continue
        heading = set(analyze(chunk.section.split(" › ")[-1])) if chunk.section else set()
        title = set(analyze(chunk.title))
        scores[chunk_id] = (
            score / top
            + HEADING_WEIGHT * len(terms & heading) / len(terms)
            + TITLE_WEIGHT * len(terms & title) / len(terms)
        )
    return scores
