"""Each eval metric on hand-made results, with exact expected numbers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eval.metrics import compute_metrics, failed_thresholds, misses, parse_thresholds, section_matches
from eval.report import write_reports


def hit(doc: str, section: str) -> dict:
    return {"doc": doc, "section": section}


ROWS = [
    {  # doc at rank 1, section at rank 2
        "id": "a", "question": "A?", "doc": "fzv", "section": "§ 6", "answerable": True, "mode": "full",
        "retrieved": [hit("fzv", "Abschnitt 2 › § 5 Antrag"), hit("fzv", "Abschnitt 2 › § 6 Zulassung"), hit("bmg", "§ 6")],
        "cited": [hit("fzv", "Abschnitt 2 › § 6 Zulassung"), hit("bmg", "§ 6 X")],
        "refused": False, "timings": {"retrieval": 0.010, "total": 2.0},
    },
    {  # doc at rank 3, section never
        "id": "b", "question": "B?", "doc": "bmg", "section": "§ 17", "answerable": True, "mode": "full",
        "retrieved": [hit("fzv", "§ 1"), hit("fzv", "§ 2"), hit("bmg", "§ 170 Foo"), hit("bmg", "§ 17a Bar")],
        "cited": [hit("bmg", "§ 170 Foo")],
        "refused": False, "timings": {"retrieval": 0.030, "total": 4.0},
    },
    {  # answerable but refused, nothing retrieved right
        "id": "c", "question": "C?", "doc": "wogg", "section": "3.2", "answerable": True, "mode": "full",
        "retrieved": [hit("fzv", "§ 1")], "cited": [], "refused": True, "timings": {"retrieval": 0.020, "total": 1.0},
    },
    {  # unanswerable, correctly refused
        "id": "d", "question": "D?", "doc": None, "section": None, "answerable": False, "mode": "full",
        "retrieved": [hit("fzv", "§ 1")], "cited": [], "refused": True, "timings": {"retrieval": 0.040, "total": 1.0},
    },
    {  # unanswerable, wrongly answered
        "id": "e", "question": "E?", "doc": None, "section": None, "answerable": False, "mode": "full",
        "retrieved": [hit("fzv", "§ 1")], "cited": [hit("fzv", "§ 1")], "refused": False,
        "timings": {"retrieval": 0.050, "total": 3.0},
    },
]  # fmt: skip


def test_section_matching_is_exact_on_numbers() -> None:
    assert section_matches("§ 6", "Abschnitt 2 › § 6 Antrag")
    assert section_matches("§6", "§ 6")
    assert not section_matches("§ 6", "§ 6a Sonderfall")
    assert not section_matches("§ 6", "§ 60 Andere")
    assert section_matches("3.2", "3 Posteingang › 3.2 Öffnen der Post")
    assert not section_matches("3.2", "3 Posteingang › 3.21 Sonstiges")
    assert section_matches("3", "3 Posteingang › 3.2 Öffnen der Post")
    assert not section_matches(None, "§ 6")


def test_metrics_exact() -> None:
    m = compute_metrics(ROWS)
    assert m["questions"] == 5 and m["answerable"] == 3
    assert m["hit@1"] == pytest.approx(1 / 3)
    assert m["hit@3"] == pytest.approx(2 / 3)
    assert m["hit@5"] == pytest.approx(2 / 3)
    assert m["mrr"] == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert m["section_hit@1"] == 0
    assert m["section_hit@3"] == pytest.approx(1 / 3)
    assert m["section_mrr"] == pytest.approx(0.5 / 3)
    # cited on answerable questions: a: fzv§6 (doc+sec), bmg (wrong doc); b: bmg §170 (doc, wrong sec)
    assert m["citation_precision"] == pytest.approx(2 / 3)
    assert m["citation_precision_section"] == pytest.approx(1 / 3)
    assert m["answer_rate"] == pytest.approx(2 / 3)
    assert m["refusal_rate"] == pytest.approx(1 / 2)
    assert m["answers_with_citation"] == pytest.approx(3 / 3)
    assert m["retrieval_p50_ms"] == pytest.approx(30.0)
    assert m["retrieval_p95_ms"] == pytest.approx(48.0)
    assert m["total_p50_s"] == pytest.approx(2.0)


def test_misses_lists_section_misses_refusals_and_false_answers() -> None:
    assert [r["id"] for r in misses(ROWS)] == ["b", "c", "e"]


def test_thresholds() -> None:
    m = compute_metrics(ROWS)
    assert parse_thresholds(["hit@5=0.9", "refusal_rate=0.5"]) == {"hit@5": 0.9, "refusal_rate": 0.5}
    assert failed_thresholds(m, {"refusal_rate": 0.5}) == []
    assert failed_thresholds(m, {"hit@5": 0.9}) == ["hit@5 = 0.667 < 0.9"]
    assert failed_thresholds(m, {"nope": 1}) == ["nope: metric not computed in this run"]
    with pytest.raises(ValueError):
        parse_thresholds(["hit@5"])


def paged(doc: str, page: int | None, page_end: int | None = None) -> dict:
    return {"doc": doc, "section": "", "page": page, "page_end": page_end}


PAGE_ROWS = [
    {  # gold page 9 inside the range of the chunk at rank 2 (pages 8–9)
        "id": "p1", "question": "P1?", "doc": "haushalt", "section": None, "page": 9, "answerable": True, "mode": "retrieval",
        "retrieved": [paged("haushalt", 7, 7), paged("haushalt", 8, 9), paged("haushalt", 9, 9)],
    },
    {  # the right page of another document, then the right one; a chunk of older runs without page_end
        "id": "p2", "question": "P2?", "doc": "protokoll", "section": None, "page": 3, "answerable": True, "mode": "retrieval",
        "retrieved": [paged("haushalt", 3, 3), paged("protokoll", 2, 2), paged("protokoll", 3)],
    },
    {  # never the gold page (a chunk without pages: an HTML file)
        "id": "p3", "question": "P3?", "doc": "protokoll", "section": None, "page": 5, "answerable": True, "mode": "retrieval",
        "retrieved": [paged("protokoll", None), paged("protokoll", 4, 4), paged("protokoll", 6, 7)],
    },
    {  # no gold page: not counted at the page level
        "id": "p4", "question": "P4?", "doc": "protokoll", "section": "§ 1", "answerable": True,
        "mode": "retrieval", "retrieved": [paged("protokoll", 1, 1)],
    },
]  # fmt: skip


def test_page_metrics_count_a_hit_when_the_gold_page_lies_in_the_chunks_pages() -> None:
    m = compute_metrics(PAGE_ROWS)
    assert m["page_questions"] == 3
    assert m["page_hit@1"] == 0
    assert m["page_hit@3"] == pytest.approx(2 / 3)
    assert m["page_mrr"] == pytest.approx((1 / 2 + 1 / 3 + 0) / 3)
    assert m["hit@1"] == pytest.approx(3 / 4)  # the document level is unchanged
    assert "page_hit@1" not in compute_metrics(ROWS)  # sets without gold pages show no page metrics


def test_empty_latency_is_nan_free() -> None:
    m = compute_metrics([r | {"timings": {}} for r in ROWS])
    assert "retrieval_p50_ms" not in m
    assert not any(isinstance(v, float) and math.isnan(v) for v in m.values())


def test_reports_are_written(tmp_path: Path) -> None:
    m = compute_metrics(ROWS)
    md, html = write_reports(tmp_path, ROWS, m, "Test", baseline=m)
    text = md.read_text()
    assert "| hit@5 | 0.667 |" in text and "Vergleich mit der Basislinie" in text and "| b | B? |" in text
    assert html.read_text().count("data:image/png;base64,") == 2
    rows = [r | {"timings": {}} for r in PAGE_ROWS]
    paged_md, _ = write_reports(tmp_path / "pages", rows, compute_metrics(rows), "Seiten")
    assert "| page_hit@3 | 0.667 |" in paged_md.read_text()


def test_eval_cli_gates_and_compares_on_a_real_index(tmp_path: Path, monkeypatch) -> None:
    from cli.main import app
    from kreiswissen.settings import get_settings

    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "reise.md").write_text(
        "# Reisekostenrichtlinie\n\n## § 1 Tagegeld\n\nDas Tagegeld beträgt 28 Euro pro Kalendertag.\n\n"
        "## § 2 Übernachtung\n\nÜbernachtungskosten werden bis 80 Euro erstattet.\n",
        encoding="utf-8",
    )
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps(
            {"question": "Wie hoch ist das Tagegeld?", "doc": "reise", "section": "§ 1", "answerable": True}
        )
        + "\n",
        encoding="utf-8",
    )
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
            str(tmp_path / "o1"),
        ]
        ok = runner.invoke(app, [*args, "--fail-under", "section_hit@1=1.0"])
        assert ok.exit_code == 0, ok.output
        row = json.loads((tmp_path / "o1" / "results.jsonl").read_text().splitlines()[0])
        assert row["retrieved"][0]["section"].startswith("§ 1")
        assert "page_end" in row["retrieved"][0] and "page" in row  # what the page metrics read
        base = str(tmp_path / "o1" / "results.jsonl")
        again = runner.invoke(
            app, [*args[:-1], str(tmp_path / "o2"), "--baseline", base, "--fail-under", "hit@1=1.1"]
        )
        assert again.exit_code == 1
        assert "Schwellenwert verfehlt" in again.output and "Basis" in again.output
    finally:
        get_settings.cache_clear()
