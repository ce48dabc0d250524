"""`kreiswissen verify`: the fact checker on an evaluator's own cases, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app

SOURCE = "Die Gebühr für die Umschreibung eines Gebrauchtwagens beträgt 27,60 Euro."
CASES = [
    {"id": "richtig", "question": "", "answer": "Die Umschreibung kostet 27,60 Euro [1].", "sources": [SOURCE],
     "expect": "accept"},
    {"id": "falsch", "question": "", "answer": "Die Umschreibung kostet 72,60 Euro [1].", "sources": [SOURCE],
     "expect": "reject"},
]  # fmt: skip


def _run(tmp_path: Path, rows: list[dict]) -> tuple[int, list[dict]]:
    path = tmp_path / "faelle.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    result = CliRunner().invoke(app, ["verify", str(path)])
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.exit_code, lines


def test_each_case_gets_a_verdict_with_its_claims_and_the_summary_counts_them(tmp_path: Path) -> None:
    code, lines = _run(tmp_path, CASES)
    assert code == 0
    by_id = {line["id"]: line for line in lines if "id" in line}
    assert by_id["richtig"]["verdict"] == "verified"
    assert by_id["falsch"]["verdict"] == "rejected"
    claim = by_id["falsch"]["claims"][0]
    assert claim["claim"] == "Die Umschreibung kostet 72,60 Euro." and claim["verdict"] == "rejected"
    assert "72,60" in claim["reason"]
    summary = lines[-1]["summary"]
    assert summary == {
        "cases": 2, "verified": 1, "rejected": 1,
        "wrong_statements": 1, "wrong_verified": 0, "right_statements": 1, "right_verified": 1,
    }  # fmt: skip


def test_a_case_without_sources_is_an_error_in_german(tmp_path: Path) -> None:
    path = tmp_path / "faelle.jsonl"
    path.write_text(json.dumps({"id": "x", "answer": "Ja [1]."}), encoding="utf-8")
    result = CliRunner().invoke(app, ["verify", str(path)])
    assert result.exit_code == 2
    assert "Fehler in Zeile 1: es fehlt sources" in result.output
