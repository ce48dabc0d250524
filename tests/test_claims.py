"""Claim-level verification (text.claims through rag.verification.verify_answer), on the shared
verification cases and on wordings of our own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kreiswissen.schema import Chunk, Source
from rag.verification import verify_answer
from text.claims import answer_mismatch, claim_mismatch

CASES = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "verification_cases.jsonl"


def _verified(answer: str, passages: list[str], question: str = "") -> bool:
    sources = [
        Source(n, Chunk(id=f"c{n}", text=t, doc_id="d", title="", section="", source_path=""), 1.0)
        for n, t in enumerate(passages, start=1)
    ]
    verdict = verify_answer(answer, sources, question)
    return bool(verdict.text) and not verdict.dropped and not verdict.unsupported_central


def test_the_shared_cases_no_wrong_statement_passes_and_the_right_ones_do() -> None:
    if not CASES.exists():
        pytest.fail(f"{CASES} fehlt: ../shared liegt neben dem Projekt")
    cases = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]
    wrong = [
        c["id"]
        for c in cases
        if c["expect"] == "reject" and _verified(c["answer"], c["sources"], c["question"])
    ]
    right = [
        c["id"]
        for c in cases
        if c["expect"] == "accept" and not _verified(c["answer"], c["sources"], c["question"])
    ]
    assert wrong == [] and right == []


SOURCE = (
    "Die Gebühr beträgt höchstens 50 Euro. Der Bescheid ergeht innerhalb von zwei Wochen nach Eingang "
    "des Antrags. Das Pflegegeld wird monatlich gezahlt, es beträgt 316 Euro. Eine Vertretung ist "
    "ausgeschlossen."
)


@pytest.mark.parametrize(
    "claim",
    [
        "Die Gebühr beträgt höchstens 50 Euro.",
        "Der Bescheid ergeht innerhalb von 14 Tagen nach Eingang des Antrags.",  # 2 Wochen = 14 Tage
        "Das Pflegegeld beträgt 316 Euro pro Monat.",  # monatlich = pro Monat
        "Eine Vertretung ist nicht zulässig.",  # "ausgeschlossen" is a negative statement too
    ],
)
def test_a_faithful_paraphrase_is_backed(claim: str) -> None:
    assert claim_mismatch(claim, SOURCE) is None


@pytest.mark.parametrize(
    ("claim", "why"),
    [
        ("Die Gebühr beträgt mindestens 50 Euro.", "mindestens"),
        ("Der Bescheid ergeht innerhalb von 14 Tagen vor Eingang des Antrags.", "vor"),
        ("Das Pflegegeld beträgt 316 Euro pro Woche.", "Zeitraum"),
        ("Das Pflegegeld beträgt 50 Euro monatlich.", "50 euro"),  # the fee's amount, paired wrongly
        ("Eine Vertretung ist zulässig.", "Verneinung"),
    ],
)
def test_a_changed_fact_is_named(claim: str, why: str) -> None:
    reason = claim_mismatch(claim, SOURCE)
    assert reason is not None and why in reason, reason


def test_a_short_answer_is_a_claim_about_the_question() -> None:
    question = "Kann ich mich bei der Anhörung vertreten lassen?"
    assert answer_mismatch("Ja.", question, SOURCE) is not None
    assert answer_mismatch("Nein, das ist ausgeschlossen.", question, SOURCE) is None


def test_the_note_names_the_claims_that_were_not_shown_and_why() -> None:
    from rag.answer_service import not_backed

    sources = [Source(1, Chunk(id="c1", text=SOURCE, doc_id="d", title="", section="", source_path=""), 1.0)]
    verdict = verify_answer(
        "Die Gebühr beträgt mindestens 50 Euro [1]. Eine Vertretung ist ausgeschlossen [1].", sources
    )
    assert [claim for claim, _ in verdict.dropped] == ["Die Gebühr beträgt mindestens 50 Euro."]
    note = not_backed(verdict.dropped)
    assert "„Die Gebühr beträgt mindestens 50 Euro" in note and "„mindestens“ statt „höchstens“" in note
