"""`kreiswissen crossval`: choose the second stage's weights on one question set and report them on
another, both directions, so no figure comes from the set its weights were picked on.

Tuned: `retrieval.rerank_dense_weight` (dense vs BM25 in the second stage) and
`retrieval.rerank_sentence_weight` (whole chunk vs its best sentence). The first stage's RRF weights
are not tuned: with the second stage on, they change only the order of a candidate set that the
second stage scores anew. Objective: mean of section hit@1 and hit@5, ties by section MRR. A
question set of a few dozen questions moves the objective by whole questions, so a weight is judged by
the mean objective of itself and its grid neighbours: the middle of a good region, not a lone spike.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kreiswissen.settings import Settings, get_settings

from .metrics import first_rank, percentile

console = Console()
DENSE_WEIGHTS = (0.5, 0.6, 0.7, 0.8, 0.9)
SENTENCE_WEIGHTS = (0.0, 0.15, 0.3, 0.45)


def _metrics(rows: list[dict]) -> dict[str, float]:
    answerable = [r for r in rows if r["answerable"]]
    out: dict[str, float] = {}
    for level, prefix in (("doc", ""), ("section", "section_")):
        ranks = [first_rank(r, level) for r in answerable]
        for k in (1, 5):
            out[f"{prefix}hit@{k}"] = sum(bool(x and x <= k) for x in ranks) / max(1, len(ranks))
        out[f"{prefix}mrr"] = sum(1 / x for x in ranks if x) / max(1, len(ranks))
    out["retrieval_p50_ms"] = percentile([r["seconds"] * 1000 for r in rows], 50)
    return out


def _objective(m: dict[str, float]) -> tuple[float, float]:
    return ((m["section_hit@1"] + m["section_hit@5"]) / 2, m["section_mrr"])


def _smoothed(scores: dict[tuple[float, float], dict[str, float]], w: tuple[float, float]) -> float:
    """Mean objective of `w` and the scored weights within one grid step of it in either weight
    (a default off the grid has its grid neighbours too)."""
    step_d, step_s = DENSE_WEIGHTS[1] - DENSE_WEIGHTS[0], SENTENCE_WEIGHTS[1] - SENTENCE_WEIGHTS[0]
    near = [n for n in scores if abs(n[0] - w[0]) <= step_d + 1e-9 and abs(n[1] - w[1]) <= step_s + 1e-9]
    return sum(_objective(scores[n])[0] for n in near) / len(near)


def evaluate(settings: Settings, questions: list[dict], dense: float, sentence: float) -> dict[str, float]:
    from rag.answer_service import AnswerService

    r = settings.retrieval.model_copy(
        update={"rerank_dense_weight": dense, "rerank_sentence_weight": sentence}
    )
    service = AnswerService(settings.model_copy(update={"retrieval": r}))
    rows = []
    for q in questions:
        got = service.retrieve(q["question"], top_k=10)
        rows.append(
            {
                "doc": q.get("doc"),
                "section": q.get("section"),
                "answerable": q["answerable"],
                "seconds": got.seconds,
                "retrieved": [{"doc": s.chunk.doc_id, "section": s.chunk.section} for s in got.sources],
            }
        )
    return _metrics(rows)


def crossval(settings: Settings, sets: dict[str, tuple[Path, Path]]) -> list[dict]:
    """For each set: the grid's metrics; then tuned-on-A → reported-on-B for both directions."""
    from .runner import load_questions, prepare_index

    default = (settings.retrieval.rerank_dense_weight, settings.retrieval.rerank_sentence_weight)
    grid = list(dict.fromkeys([*itertools.product(DENSE_WEIGHTS, SENTENCE_WEIGHTS), default]))
    scores: dict[str, dict[tuple[float, float], dict[str, float]]] = {}
    for name, (questions_path, corpus) in sets.items():
        indexed, _ = prepare_index(settings, corpus, None)
        questions = load_questions(questions_path)
        scores[name] = {w: evaluate(indexed, questions, *w) for w in grid}
    out = []
    for tuned, reported in itertools.permutations(sets, 2):
        best = max(grid, key=lambda w: (_smoothed(scores[tuned], w), *_objective(scores[tuned][w])))
        out.append(
            {
                "tuned_on": tuned,
                "reported_on": reported,
                "weights": best,
                "on_tuned": scores[tuned][best],
                "on_reported": scores[reported][best],
                "default_on_reported": scores[reported][default],
                "grid": {f"{d:.2f}/{t:.2f}": scores[tuned][(d, t)] for d, t in grid},  # default included
            }
        )
    return out


def crossval_command(
    first: Annotated[Path, typer.Option("--first", help="Frage-Set A (JSON Lines)")] = Path(
        "../shared/eval/dev.jsonl"
    ),
    first_corpus: Annotated[Path, typer.Option("--first-corpus", help="Korpus zu A")] = Path(
        "../shared/corpus-public"
    ),
    second: Annotated[Path, typer.Option("--second", help="Frage-Set B")] = Path("eval/corpus_eval.jsonl"),
    second_corpus: Annotated[Path, typer.Option("--second-corpus", help="Korpus zu B")] = Path("corpus"),
    out: Annotated[Path | None, typer.Option(help="Ergebnisse mit dem ganzen Raster als JSON")] = None,
) -> None:
    """Gewichte der zweiten Stufe auf einem Frage-Set wählen und auf dem anderen berichten (beide Richtungen)."""
    sets = {first.stem: (first, first_corpus), second.stem: (second, second_corpus)}
    with console.status("Indexiere und rechne das Raster …"):
        results = crossval(get_settings(), sets)
    table = Table(
        "gewählt auf", "berichtet auf", "dense / Satz", "§ hit@1", "§ hit@5", "Dok. hit@5", "p50 ms",
        "Standard: § hit@1 / @5", title="Kreuzvalidierung der Gewichte der zweiten Stufe",
    )  # fmt: skip
    for r in results:
        rep, base = r["on_reported"], r["default_on_reported"]
        table.add_row(
            r["tuned_on"],
            r["reported_on"],
            f"{r['weights'][0]:.2f} / {r['weights'][1]:.2f}",
            f"{rep['section_hit@1']:.3f} (auf {r['tuned_on']}: {r['on_tuned']['section_hit@1']:.3f})",
            f"{rep['section_hit@5']:.3f} (auf {r['tuned_on']}: {r['on_tuned']['section_hit@5']:.3f})",
            f"{rep['hit@5']:.3f}",
            f"{rep['retrieval_p50_ms']:.0f}",
            f"{base['section_hit@1']:.3f} / {base['section_hit@5']:.3f}",
        )
    console.print(table)
    for r in results:  # the whole grid of each set: § hit@1 / § hit@5 per dense share (rows), sentence share
        grid = Table(
            "dense \\ Satz", *(f"{t:.2f}" for t in SENTENCE_WEIGHTS), title=f"Raster auf {r['tuned_on']}"
        )
        for d in DENSE_WEIGHTS:
            cells = [r["grid"][f"{d:.2f}/{t:.2f}"] for t in SENTENCE_WEIGHTS]
            grid.add_row(f"{d:.2f}", *(f"{c['section_hit@1']:.2f} / {c['section_hit@5']:.2f}" for c in cells))
        console.print(grid)
    if out:
        out.write_text(json.dumps(results, indent=2), encoding="utf-8")
