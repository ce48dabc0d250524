"""`kreiswissen bench answer` on a one-document corpus: the real pipeline, figures and CPU flags printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

pytestmark = pytest.mark.slow

DOC = """# Richtlinie Reisekosten

## § 6 Tagegeld

(1) Für eintägige Dienstreisen mit einer Abwesenheit von mehr als acht Stunden beträgt das Tagegeld 14 Euro.
Bei einer Abwesenheit von bis zu acht Stunden wird kein Tagegeld gezahlt.
"""


def test_bench_answer_prints_timings_and_cpu_flags(tmp_path: Path, monkeypatch) -> None:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "reisekosten.md").write_text(DOC, encoding="utf-8")
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps(
            {"question": "Wie hoch ist das Tagegeld bei einer eintägigen Dienstreise?", "doc": "reisekosten"}
        )
        + "\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("KREISWISSEN_DATA_DIR", str(tmp_path / "data"))
    from kreiswissen.settings import get_settings

    get_settings.cache_clear()
    out = tmp_path / "bench.json"
    try:
        result = CliRunner().invoke(
            app,
            ["bench", "answer", str(questions), "--corpus", str(corpus), "--out", str(out),
             "--set", "generator.max_new_tokens=24"],
        )  # fmt: skip
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "avx2=" in result.output and "Fundstelle" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    row = report["results"]["llamacpp"]["rows"][0]
    assert not row["refused"]
    assert 0 < row["extract"] < row["total"]
    assert row["prompt_tokens"] > 0 and row["first_token"] is not None
