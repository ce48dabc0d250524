"""Cross-validation picks a weight inside a good region of the grid, not a lone spike."""

from __future__ import annotations

import itertools

from eval.crossval import DENSE_WEIGHTS, SENTENCE_WEIGHTS, _objective, _smoothed


def _scores(good: dict[tuple[float, float], float]) -> dict[tuple[float, float], dict[str, float]]:
    return {
        w: {"section_hit@1": good.get(w, 0.5), "section_hit@5": good.get(w, 0.5), "section_mrr": 0.5}
        for w in itertools.product(DENSE_WEIGHTS, SENTENCE_WEIGHTS)
    }


def test_a_plateau_beats_a_single_better_weight() -> None:
    spike = (DENSE_WEIGHTS[-1], SENTENCE_WEIGHTS[-1])
    plateau = {(d, t): 0.8 for d in DENSE_WEIGHTS[1:4] for t in SENTENCE_WEIGHTS[0:3]}
    scores = _scores({spike: 0.9, **plateau})
    best = max(scores, key=lambda w: (_smoothed(scores, w), *_objective(scores[w])))
    assert best in plateau
    assert max(scores, key=lambda w: _objective(scores[w])) == spike  # what the plain argmax would take
