"""Relevance-gate calibration from an eval run: the gate's signals for answerable and unanswerable
questions side by side, and thresholds that separate them.

Every numeric field of a row's "gate" record is a signal (best_dense, coverage and whatever the gate
adds later). A question passes a signal at threshold t when its value is ≥ t (or ≤ t for a signal
that is lower on answerable questions). Two rules pick t: the highest answered rate among thresholds
that still refuse at least `min_refusal` of the unanswerable questions, and Youden's J (answered +
refused − 1, maximal). For the gate as it is built — relevant when best_dense ≥ a OR coverage ≥ b —
the pair (a, b) is searched the same way.

A question the topic veto refused (gate field "foreign": the uncommon nouns no document uses) passes
no threshold: the thresholds are searched for the questions that reach them.

With few unanswerable questions (8 in the project's own set) each one moves the refusal rate a lot:
choose thresholds on one question set and check them on another.
"""

from __future__ import annotations

import json
import statistics
import sys
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

# The gate's settings for its two signals (kreiswissen/settings.py, RetrievalSettings).
SETTING = {"best_dense": "retrieval.gate_min_dense", "coverage": "retrieval.gate_min_coverage"}


@dataclass(frozen=True)
class Threshold:
    signal: str
    rule: str  # "refusal" (max. answered with refusal ≥ min) or "youden"
    threshold: float
    higher_passes: bool  # True: value ≥ threshold passes; False: value ≤ threshold passes
    answered: float  # share of answerable questions that pass
    refused: float  # share of unanswerable questions that do not pass


@dataclass(frozen=True)
class PairThreshold:
    signals: tuple[str, str]
    thresholds: tuple[float, float]
    answered: float
    refused: float


def signal_values(rows: list[dict]) -> dict[str, tuple[list[float], list[float]]]:
    """signal → (values on answerable questions, values on unanswerable ones); questions the topic
    veto refused are left out (no threshold lets them through)."""
    out: dict[str, tuple[list[float], list[float]]] = {}
    for row in rows:
        if _vetoed(row):
            continue
        for name, value in (row.get("gate") or {}).items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            pos, neg = out.setdefault(name, ([], []))
            (pos if row.get("answerable", True) else neg).append(float(value))
    return out


def _candidates(values: list[float]) -> list[float]:
    """Midpoints between neighbouring distinct values, and one step beyond each end."""
    v = sorted(set(values))
    if not v:
        return []
    mids = [round((a + b) / 2, 4) for a, b in pairwise(v)]
    return [round(v[0] - 0.001, 4), *mids, round(v[-1] + 0.001, 4)]


def _rates(pos: list[float], neg: list[float], t: float, higher: bool) -> tuple[float, float]:
    def passes(x: float) -> bool:
        return x >= t if higher else x <= t

    answered = sum(map(passes, pos)) / len(pos) if pos else 0.0
    refused = sum(not passes(x) for x in neg) / len(neg) if neg else 0.0
    return answered, refused


def suggest(signal: str, pos: list[float], neg: list[float], min_refusal: float = 0.75) -> list[Threshold]:
    """Suggested thresholds for one signal (empty without both kinds of question)."""
    if not pos or not neg:
        return []
    higher = statistics.median(pos) >= statistics.median(neg)
    scored = [(t, *_rates(pos, neg, t, higher)) for t in _candidates(pos + neg)]
    out = []
    feasible = [s for s in scored if s[2] >= min_refusal]
    if feasible:
        # most answered; among equals the most refused, then the threshold nearest the unanswerables
        t, a, r = max(feasible, key=lambda s: (s[1], s[2], -s[0] if higher else s[0]))
        out.append(Threshold(signal, "refusal", t, higher, a, r))
    t, a, r = max(scored, key=lambda s: (s[1] + s[2], s[1]))
    out.append(Threshold(signal, "youden", t, higher, a, r))
    return out


def suggest_or_gate(
    rows: list[dict], signals: tuple[str, str] = ("best_dense", "coverage"), min_refusal: float = 0.75
) -> PairThreshold | None:
    """Thresholds (a, b) for "relevant when signal₁ ≥ a or signal₂ ≥ b" with the most answered
    questions among those refusing at least `min_refusal` of the unanswerable ones."""
    pairs = [
        (r.get("answerable", True), float(r["gate"][signals[0]]), float(r["gate"][signals[1]]), _vetoed(r))
        for r in rows
        if all(isinstance((r.get("gate") or {}).get(s), int | float) for s in signals)
    ]
    n_pos = sum(1 for p in pairs if p[0])
    n_neg = len(pairs) - n_pos
    if not n_pos or not n_neg:
        return None
    best: tuple | None = None
    for a in _candidates([p[1] for p in pairs]):
        for b in _candidates([p[2] for p in pairs]):
            passed = [(ok, not veto and (x >= a or y >= b)) for ok, x, y, veto in pairs]
            answered = sum(p for ok, p in passed if ok) / n_pos
            refused = sum(not p for ok, p in passed if not ok) / n_neg
            if refused < min_refusal:
                continue
            key = (answered, refused, -a, -b)
            if best is None or key > best[0]:
                best = (key, a, b, answered, refused)
    if best is None:
        return None
    return PairThreshold(signals, (best[1], best[2]), best[3], best[4])


def _vetoed(row: dict) -> bool:
    return bool((row.get("gate") or {}).get("foreign"))


def current_rates(rows: list[dict]) -> tuple[float, float] | None:
    """The gate's own decision on this run: (answered share, refused share)."""
    pos = [
        r["gate"]["relevant"]
        for r in rows
        if "relevant" in (r.get("gate") or {}) and r.get("answerable", True)
    ]
    neg = [
        r["gate"]["relevant"]
        for r in rows
        if "relevant" in (r.get("gate") or {}) and not r.get("answerable", True)
    ]
    if not pos or not neg:
        return None
    return sum(pos) / len(pos), sum(not x for x in neg) / len(neg)


def pair_rates(
    rows: list[dict], signals: tuple[str, str], thresholds: tuple[float, float]
) -> tuple[float, float]:
    """(answered share, refused share) of the OR gate with these thresholds on another run's rows."""
    pos = neg = answered = refused = 0
    for r in rows:
        gate = r.get("gate") or {}
        if not all(isinstance(gate.get(s), int | float) for s in signals):
            continue
        passes = not _vetoed(r) and any(float(gate[s]) >= t for s, t in zip(signals, thresholds, strict=True))
        if r.get("answerable", True):
            pos, answered = pos + 1, answered + passes
        else:
            neg, refused = neg + 1, refused + (not passes)
    return (answered / pos if pos else 0.0), (refused / neg if neg else 0.0)


def main(argv: list[str]) -> int:
    """Choose the gate's thresholds on one eval run and check them on another:

    python -m eval.gate_calibration CHOOSE/results.jsonl CHECK/results.jsonl
    """
    if len(argv) != 2:
        print(
            "Aufruf: python -m eval.gate_calibration WAHL/results.jsonl PRÜFUNG/results.jsonl",
            file=sys.stderr,
        )
        return 2
    choose, check = (
        [json.loads(line) for line in Path(p).read_text(encoding="utf-8").splitlines() if line.strip()]
        for p in argv
    )
    pair = suggest_or_gate(choose)
    if pair is None:
        print(
            "Keine Schwellenwerte: das erste Frage-Set braucht beantwortbare und nicht beantwortbare Fragen."
        )
        return 1
    answered, refused = pair_rates(check, pair.signals, pair.thresholds)
    for signal, value in zip(pair.signals, pair.thresholds, strict=True):
        print(f"{SETTING.get(signal, signal)} = {value:.3f}")
    print(f"gewählt auf {argv[0]}: beantwortet {pair.answered:.0%}, abgelehnt {pair.refused:.0%}")
    print(f"geprüft auf {argv[1]}: beantwortet {answered:.0%}, abgelehnt {refused:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
