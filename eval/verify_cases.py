"""`kreiswissen verify CASES.jsonl`: the fact checker on an evaluator's own cases.

Each line: `id`, `question`, `answer` (with [n] markers), `sources` (passage texts, [1] = the first);
optional `expect` ("verify" or "reject") and `why`. Prints one JSON line per case — its verdict and
the verdict and reason per sentence — and a summary; with `expect`, how many wrong statements were
verified and how many right ones were.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from kreiswissen.schema import Chunk, Source
from rag.citation_check import claim_text, sentences_of
from rag.verification import verify_answer


def case_sources(passages: list[str]) -> list[Source]:
    """The case's passages as sources [1], [2], … (no title or section: only the text counts)."""
    return [
        Source(
            n, Chunk(id=f"quelle-{n}", text=text, doc_id="fall", title="", section="", source_path=""), 1.0
        )
        for n, text in enumerate(passages, start=1)
    ]


def check_case(case: dict[str, Any]) -> dict[str, Any]:
    """Verdict of one case: "verified" when every sentence of the answer passes, else "rejected"."""
    answer = case["answer"]
    verdict = verify_answer(answer, case_sources(case["sources"]), case.get("question", ""))
    reasons = dict(verdict.dropped)
    claims = []
    for line in answer.strip().split("\n"):
        for sentence in sentences_of(line):
            claim = claim_text(sentence)
            if claim:
                reason = reasons.get(claim)
                claims.append(
                    {"claim": claim, "verdict": "rejected" if reason else "verified", "reason": reason}
                )
    passed = bool(verdict.text) and not verdict.dropped and not verdict.unsupported_central
    return {"id": case.get("id"), "verdict": "verified" if passed else "rejected", "claims": claims}


def summarize(cases: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "cases": len(results),
        "verified": sum(r["verdict"] == "verified" for r in results),
        "rejected": sum(r["verdict"] == "rejected" for r in results),
    }
    expected = [
        (c.get("expect"), r["verdict"]) for c, r in zip(cases, results, strict=True) if c.get("expect")
    ]
    if expected:
        wrong = [v for e, v in expected if e == "reject"]
        right = [v for e, v in expected if e in ("verify", "accept")]
        summary |= {
            "wrong_statements": len(wrong),
            "wrong_verified": sum(v == "verified" for v in wrong),
            "right_statements": len(right),
            "right_verified": sum(v == "verified" for v in right),
        }
    return summary


def verify_command(
    cases: Annotated[
        Path,
        typer.Argument(help="Fälle als JSON Lines (id, question, answer mit [n], sources; optional expect)"),
    ],
) -> None:
    """Den Faktenabgleich an eigenen Fällen prüfen: je Fall eine JSON-Zeile und eine Zusammenfassung."""
    rows = [json.loads(line) for line in cases.read_text(encoding="utf-8").splitlines() if line.strip()]
    for n, row in enumerate(rows, start=1):
        missing = [k for k in ("answer", "sources") if k not in row]
        if missing or not isinstance(row.get("sources"), list):
            typer.echo(
                f"Fehler in Zeile {n}: es fehlt {', '.join(missing) or 'eine Liste sources'}.", err=True
            )
            raise typer.Exit(2)
    results = [check_case(row) for row in rows]
    for result in results:
        typer.echo(json.dumps(result, ensure_ascii=False))
    typer.echo(json.dumps({"summary": summarize(rows, results)}, ensure_ascii=False))
