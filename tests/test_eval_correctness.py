"""Answer-correctness metrics (key facts, contradicted numbers) and gate calibration, with exact numbers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from typer.testing import CliRunner

from eval.gate_calibration import current_rates, pair_rates, signal_values, suggest, suggest_or_gate
from eval.gate_calibration import main as calibration_main
from eval.metrics import compute_metrics, correctness_metrics, key_fact_hits, worst_questions
from eval.report import write_reports
from tests.conftest import serve

REFUSAL = "Dazu habe ich in den Dokumenten nichts gefunden."


def row(rid: str, answerable: bool = True, **fields) -> dict:
    base = {
        "id": rid, "question": f"{rid}?", "doc": "reise" if answerable else None, "section": "§ 6",
        "answerable": answerable, "mode": "full", "retrieved": [], "refused": False, "timings": {},
    }  # fmt: skip
    return base | fields


NONE = {"extract": [], "generated": [], "answer": []}
ROWS = [
    row(  # extract has both facts, the verified generation only one
        "a",
        key_facts=["14 Euro", "acht Stunden"],
        extract="… beträgt es jeweils 14 Euro … mit einer Abwesenheit von mehr als 8 Stunden",
        generated="Es gibt 14 € [1].",
        answer="Es gibt 14 € [1].",
        verified=True,
        contradicted=NONE,
    ),
    row(  # wrong generation ("drei Jahre"), so the extract is shown
        "b",
        key_facts=["drei Monate"],
        extract="Die vorläufige Bescheinigung gilt 3 Monate.",
        generated="Sie gilt drei Jahre [1].",
        answer="„Die vorläufige Bescheinigung gilt 3 Monate.“ [1]",
        verified=False,
        contradicted={"extract": [], "generated": ["3 jahre"], "answer": []},
    ),
    row(  # refused although the extract had the fact
        "c",
        key_facts=["27,60 Euro"],
        extract="Die Gebühr beträgt 27,60 €.",
        generated="",
        answer=REFUSAL,
        refused=True,
        contradicted=NONE,
    ),
    row(  # gold-section mistake: no key facts, not counted
        "d", key_facts=[], answer=None, extract="x", generated="x", verified=False, contradicted=NONE
    ),
    row(  # unanswerable and answered with an invented amount
        "e",
        answerable=False,
        extract="Hunde sind an der Leine zu führen.",
        generated="Die Hundesteuer beträgt 1000 Euro [1].",
        answer="Die Hundesteuer beträgt 1000 Euro [1].",
        verified=True,
        contradicted={"extract": [], "generated": ["1000 euro"], "answer": ["1000 euro"]},
    ),
]


def test_key_fact_hits_per_text() -> None:
    assert key_fact_hits(ROWS[0]) == {
        "extract": [True, True],
        "generated": [True, False],
        "answer": [True, False],
    }
    assert key_fact_hits(ROWS[2])["answer"] == [False]  # refused: nothing shown
    assert key_fact_hits(ROWS[3]) is None and key_fact_hits(ROWS[4]) is None


def test_shown_answer_includes_the_quoted_extract() -> None:
    """The user reads the extract's quotes above the verified answer: the shown text counts both."""
    shown = row(
        "s",
        key_facts=["14 Euro", "acht Stunden"],
        extract="… beträgt es jeweils 14 Euro … mehr als acht Stunden",
        generated="Es gibt 14 € [1].",
        answer="Es gibt 14 € [1].",
        shown="„beträgt es jeweils 14 Euro“ [1]\n„mehr als acht Stunden“ [1]\n\nEs gibt 14 € [1].",
        verified=True,
    )
    assert key_fact_hits(shown)["answer"] == [True, True]
    assert key_fact_hits(shown)["generated"] == [True, False]


def test_correctness_metrics_exact() -> None:
    m = correctness_metrics(ROWS)
    assert m["key_fact_questions"] == 3
    assert m["key_fact_recall_extract"] == pytest.approx(1.0)
    assert m["key_fact_accuracy_extract"] == pytest.approx(1.0)
    assert m["key_fact_recall_generated"] == pytest.approx((0.5 + 0 + 0) / 3)
    assert m["key_fact_accuracy_generated"] == 0.0
    assert m["key_fact_recall_answer"] == m["key_fact_recall"] == pytest.approx((0.5 + 1 + 0) / 3)
    assert m["key_fact_accuracy_answer"] == m["key_fact_accuracy"] == pytest.approx(1 / 3)
    assert m["contradicted_numbers"] == 1
    assert m["contradicted_numbers_generated"] == 2
    assert m["contradicted_numbers_extract"] == 0
    assert m["answers_without_contradiction"] == pytest.approx(3 / 4)  # a, b, d of a, b, d, e
    assert m["verified_rate"] == pytest.approx(2 / 4)  # a, e of a, b, d, e
    assert compute_metrics(ROWS)["key_fact_accuracy"] == pytest.approx(1 / 3)


def test_retrieval_only_rows_measure_the_extract() -> None:
    rows = [
        row("a", mode="retrieval", key_facts=["14 Euro"], extract="jeweils 14 Euro", contradicted=NONE),
        row("b", mode="retrieval", key_facts=["14 Euro"], extract="jeweils 14 Euro", refused=True),
        row("c", mode="retrieval", key_facts=["28 Euro", "Kalendertag"], extract="28 Euro je Tag"),
    ]
    m = correctness_metrics(rows)
    assert m["key_fact_accuracy_extract"] == pytest.approx(2 / 3)
    assert m["key_fact_recall_extract"] == pytest.approx((1 + 1 + 0.5) / 3)
    assert m["key_fact_accuracy"] == pytest.approx(1 / 3)  # b was refused by the gate: nothing shown
    assert "key_fact_accuracy_generated" not in m
    # without an extract (a service that offers none) there is nothing to measure
    bare = correctness_metrics([row("a", mode="retrieval", key_facts=["14 Euro"])])
    assert bare == {"key_fact_questions": 1}


def test_worst_questions_order() -> None:
    worst = worst_questions(ROWS)
    assert [(r["id"], rep["missing"], rep["contradicted"]) for r, rep in worst] == [
        ("c", ["27,60 Euro"], []),
        ("a", ["acht Stunden"], []),
        ("e", [], ["1000 euro"]),
    ]
    assert worst[1][1]["missing_extract"] == []


def gate_row(answerable: bool, dense: float, coverage: float = 0.0, relevant: bool = True) -> dict:
    return {
        "answerable": answerable,
        "gate": {"best_dense": dense, "coverage": coverage, "relevant": relevant},
    }


def test_single_signal_thresholds_exact() -> None:
    pos, neg = [0.9, 0.5, 0.48, 0.46], [0.55, 0.52, 0.3, 0.2]
    by_rule = {t.rule: t for t in suggest("best_dense", pos, neg, min_refusal=0.75)}
    # refusing 3 of 4 unanswerables needs t > 0.52: only 0.9 passes; 0.725 refuses all four
    r = by_rule["refusal"]
    assert (r.threshold, r.answered, r.refused, r.higher_passes) == (0.725, 0.25, 1.0, True)
    # Youden: t = 0.38 answers all, refuses 0.3 and 0.2 → J = 1 + 0.5 − 1
    y = by_rule["youden"]
    assert (y.threshold, y.answered, y.refused) == (0.38, 1.0, 0.5)
    # a signal that is lower on answerable questions is turned around
    flipped = {t.rule: t for t in suggest("distance", [1 - x for x in pos], [1 - x for x in neg])}
    assert flipped["youden"].higher_passes is False and flipped["youden"].threshold == pytest.approx(0.62)
    assert suggest("best_dense", pos, []) == []


def test_or_gate_pair_and_signal_values() -> None:
    rows = [
        gate_row(True, 0.9, 0.1),
        gate_row(True, 0.5, 0.8, relevant=False),
        gate_row(False, 0.55, 0.3),
        gate_row(False, 0.2, 0.4, relevant=False),
    ]
    pair = suggest_or_gate(rows)
    assert pair is not None
    assert (pair.thresholds, pair.answered, pair.refused) == ((0.725, 0.6), 1.0, 1.0)
    assert signal_values(rows) == {
        "best_dense": ([0.9, 0.5], [0.55, 0.2]),
        "coverage": ([0.1, 0.8], [0.3, 0.4]),
    }
    assert current_rates(rows) == (0.5, 0.5)
    assert suggest_or_gate(rows[:2]) is None  # no unanswerable question
    # an unanswerable question with a high dense score: refusing it costs the first answerable one
    harder = [*rows, gate_row(False, 0.95, 0.0)]
    pair = suggest_or_gate(harder)
    assert pair is not None and (pair.thresholds, pair.answered, pair.refused) == ((0.951, 0.6), 0.5, 1.0)
    loose = suggest_or_gate(harder, min_refusal=0.5)
    assert loose is not None and (loose.thresholds, loose.answered) == ((0.725, 0.6), 1.0)
    # thresholds chosen on `rows`, checked on `harder`: its extra unanswerable question gets through
    assert pair_rates(harder, ("best_dense", "coverage"), (0.725, 0.6)) == (1.0, pytest.approx(2 / 3))


def test_questions_the_topic_veto_refused_pass_no_threshold() -> None:
    rows = [
        gate_row(True, 0.9),
        gate_row(True, 0.6),
        gate_row(False, 0.8) | {"gate": {"best_dense": 0.8, "coverage": 0.0, "foreign": ["Carport"]}},
        gate_row(False, 0.5),
    ]
    # The vetoed unanswerable one is refused whatever the thresholds: 0.55 answers both answerable.
    pair = suggest_or_gate(rows)
    assert pair is not None and (pair.thresholds[0], pair.answered, pair.refused) == (0.55, 1.0, 1.0)
    assert pair_rates(rows, ("best_dense", "coverage"), (0.0, 0.0)) == (1.0, 0.5)
    assert signal_values(rows)["best_dense"] == ([0.9, 0.6], [0.5])
    plain = [rows[0], rows[1], gate_row(False, 0.8), rows[3]]
    assert suggest_or_gate(plain).answered == 0.5  # without the veto, 0.8 must be refused by dense


def test_gate_calibration_across_two_runs(tmp_path: Path, capsys) -> None:
    choose, check = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    choose.write_text(
        "".join(json.dumps(r) + "\n" for r in [gate_row(True, 0.9, 0.1), gate_row(False, 0.5, 0.2)])
    )
    check.write_text(
        "".join(json.dumps(r) + "\n" for r in [gate_row(True, 0.6, 0.1), gate_row(False, 0.8, 0.0)])
    )
    assert calibration_main([str(choose), str(check)]) == 0
    out = capsys.readouterr().out
    assert "retrieval.gate_min_dense = 0.700" in out and "retrieval.gate_min_coverage = 0.201" in out
    assert "beantwortet 100%, abgelehnt 100%" in out and "beantwortet 0%, abgelehnt 0%" in out
    assert calibration_main([str(choose)]) == 2


def test_report_has_worst_answers_and_gate_calibration(tmp_path: Path) -> None:
    rows = [
        r | gate_row(r["answerable"], d, c)
        for r, d, c in zip(ROWS, (0.9, 0.8, 0.5, 0.7, 0.3), (0.9, 0.1, 0.2, 0.5, 0.6), strict=True)
    ]
    m = compute_metrics(rows)
    md, html = write_reports(tmp_path, rows, m, "Test")
    text = md.read_text()
    assert "| key_fact_accuracy | 0.333 |" in text and "| contradicted_numbers | 1 |" in text
    assert "## Schwächste Antworten (3)" in text and "| c | c? | 27,60 Euro | – | – | (abgelehnt) |" in text
    assert "## Kalibrierung der Relevanzschranke" in text and "`retrieval.gate_min_dense = " in text
    # plots: search hits, key facts, gate signals
    assert html.read_text().count("data:image/png;base64,") == 3


def test_eval_cli_gates_on_key_fact_accuracy(tmp_path: Path, monkeypatch) -> None:
    """A real index, retrieval-only: the extract is measured against the key facts and gated."""
    from cli.main import app
    from kreiswissen.settings import get_settings

    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "reise.md").write_text(
        "# Reisekostenrichtlinie\n\n## § 1 Tagegeld\n\nDas Tagegeld beträgt 28 Euro pro Kalendertag. "
        "Für eintägige Reisen gibt es nichts.\n\n## § 2 Übernachtung\n\nÜbernachtungskosten werden bis "
        "80 Euro erstattet.\n",
        encoding="utf-8",
    )
    questions = tmp_path / "q.jsonl"
    lines = [
        {"question": "Wie hoch ist das Tagegeld?", "doc": "reise", "section": "§ 1", "answerable": True,
         "answer": "28 Euro je Kalendertag.", "key_facts": ["achtundzwanzig Euro", "Kalendertag"]},
        {"question": "Was kostet ein Fischereischein?", "doc": None, "section": None, "answerable": False},
    ]  # fmt: skip
    questions.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in lines), encoding="utf-8")
    monkeypatch.setenv("KREISWISSEN_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        args = [
            "eval",
            str(questions),
            "--corpus",
            str(corpus),
            "--retrieval-only",
            "--out",
            str(tmp_path / "o"),
        ]
        gates = ["--fail-under", "key_fact_accuracy=1.0", "--fail-under", "key_fact_accuracy_extract=1.0"]
        ok = runner.invoke(app, [*args, *gates])
        assert ok.exit_code == 0, ok.output
        first = json.loads((tmp_path / "o" / "results.jsonl").read_text().splitlines()[0])
        assert "28 Euro pro Kalendertag" in first["extract"]
        assert first["key_facts"] == ["achtundzwanzig Euro", "Kalendertag"]
        assert first["contradicted"]["extract"] == []
        assert first["key_facts_found"] == {"extract": [True, True], "answer": [True, True]}
        metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
        assert metrics["key_fact_questions"] == 1 and metrics["key_fact_recall_extract"] == 1.0
        failed = runner.invoke(app, [*args, "--fail-under", "key_fact_accuracy_generated=0.5"])
        assert failed.exit_code == 1
        assert "key_fact_accuracy_generated: metric not computed in this run" in " ".join(
            failed.output.split()
        )
    finally:
        get_settings.cache_clear()


CANNED = {  # question → what the "model" answers: one right, one with an invented amount
    "Wie hoch ist das Tagegeld?": "Das Tagegeld beträgt 28 Euro pro Kalendertag [1].",
    "Bis zu welchem Betrag werden Übernachtungskosten erstattet?": "Übernachtungskosten werden bis 99 Euro erstattet [1].",
}


def canned_model() -> FastAPI:
    """An OpenAI-compatible /v1/chat/completions that streams a fixed answer per question."""
    app = FastAPI()
    app.get("/healthz")(lambda: {"status": "ok"})

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> StreamingResponse:
        prompt = json.dumps(await request.json(), ensure_ascii=False)
        text = next(answer for question, answer in CANNED.items() if question in prompt)

        def chunks() -> Iterator[str]:
            for token in text.split(" "):
                yield f"data: {json.dumps({'choices': [{'delta': {'content': token + ' '}}]})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(chunks(), media_type="text/event-stream")

    return app


def test_full_run_records_extract_generated_and_shown_answer(tmp_path: Path, monkeypatch) -> None:
    """Full mode against a model server on loopback: a wrong amount in the generated text is counted
    as contradicted, and the shown answer (the extract, since verification fails) has the key fact."""
    from cli.main import app
    from kreiswissen.settings import get_settings

    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "reise.md").write_text(
        "# Reisekostenrichtlinie\n\n## § 1 Tagegeld\n\nDas Tagegeld beträgt 28 Euro pro Kalendertag.\n\n"
        "## § 2 Übernachtung\n\nÜbernachtungskosten werden bis 80 Euro pro Nacht erstattet.\n",
        encoding="utf-8",
    )
    questions = tmp_path / "q.jsonl"
    lines = [
        {"question": q, "doc": "reise", "section": s, "answerable": True, "key_facts": [f]}
        for q, s, f in zip(CANNED, ("§ 1", "§ 2"), ("28 Euro", "80 Euro"), strict=True)
    ]
    questions.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in lines), encoding="utf-8")
    monkeypatch.setenv("KREISWISSEN_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        with serve(canned_model()) as url:
            overrides = ["--set", "generator.backend=openai", "--set", f"generator.api_base={url}/v1"]
            args = ["eval", str(questions), "--corpus", str(corpus), "--out", str(tmp_path / "o"), *overrides]
            result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        right, wrong = [
            json.loads(line) for line in (tmp_path / "o" / "results.jsonl").read_text().splitlines()
        ]
        assert right["generated"].split() == CANNED[lines[0]["question"]].split()
        assert right["contradicted"] == {"extract": [], "generated": [], "answer": []}
        assert wrong["generated"].split() == CANNED[lines[1]["question"]].split()
        assert wrong["contradicted"]["generated"] == ["99 euro"]
        assert wrong["verified"] is False and "80 Euro" in wrong["answer"] and "99" not in wrong["answer"]
        assert wrong["extract"] and "80 Euro" in wrong["extract"]
        m = json.loads((tmp_path / "o" / "metrics.json").read_text())
        assert m["key_fact_accuracy_generated"] == 0.5
        assert m["key_fact_accuracy_extract"] == m["key_fact_accuracy"] == 1.0
        assert (m["contradicted_numbers_generated"], m["contradicted_numbers"]) == (1, 0)
        assert m["answers_without_contradiction"] == 1.0
    finally:
        get_settings.cache_clear()
