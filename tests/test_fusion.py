"""Second-stage score fusion: BM25 counts as much as its best candidate matches the query."""

from __future__ import annotations

from rag.rerank import score_fusion

QUERY = [1.0, 0.0]
# a: a little closer in meaning; b: the only BM25 match
EMBEDDINGS = {"a": [0.9, 0.1], "b": [0.8, 0.3], "c": [0.1, 0.9]}
BM25 = {"a": 0.0, "b": 2.0, "c": 0.0}


def _best(ceiling: float | None) -> str:
    fused = score_fusion(QUERY, EMBEDDINGS, BM25, dense_weight=0.7, bm25_ceiling=ceiling)
    return max(fused, key=fused.__getitem__)


def test_a_bm25_match_on_all_query_words_decides() -> None:
    assert _best(ceiling=2.0) == "b"  # b matches everything the query can match


def test_a_bm25_match_on_a_small_share_of_the_query_counts_little() -> None:
    assert _best(ceiling=20.0) == "a"  # b matches a tenth of the query: dense decides
    assert _best(ceiling=None) == "b"  # plain min-max would stretch that tenth to full weight
