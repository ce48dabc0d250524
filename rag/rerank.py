"""Second stage without a cross-encoder (none ships its weights): convex score fusion.

First-stage RRF only sees ranks, and a candidate found by one leg has no score from the other.
Here every candidate of either leg gets both scores — its cosine from the stored vector and its
BM25 score — min-max normalised over the candidates and combined with a fixed weight (Bruch et al.,
"An Analysis of Fusion Functions for Hybrid Retrieval", 2022). Not fitted to any question set.
"""

from __future__ import annotations

import numpy as np


def _normalise(values: dict[str, float]) -> dict[str, float]:
    if not values:
        return {}
    lo, hi = min(values.values()), max(values.values())
    span = hi - lo or 1.0
    return {k: (v - lo) / span for k, v in values.items()}


def score_fusion(
    query_embedding: list[float],
    embeddings: dict[str, list[float]],
    bm25: dict[str, float],
    dense_weight: float,
) -> dict[str, float]:
    """Combined score per candidate; `embeddings` and `bm25` cover the same candidate ids."""
    q = np.asarray(query_embedding, dtype=np.float32)
    q /= np.linalg.norm(q) or 1.0
    cosine = {}
    for cid, vec in embeddings.items():
        v = np.asarray(vec, dtype=np.float32)
        cosine[cid] = float(q @ v / (np.linalg.norm(v) or 1.0))
    dense_n, bm25_n = _normalise(cosine), _normalise(bm25)
    return {cid: dense_weight * dense_n[cid] + (1 - dense_weight) * bm25_n.get(cid, 0.0) for cid in dense_n}
