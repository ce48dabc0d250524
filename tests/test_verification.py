"""Fact-level verification: numbers, amounts, durations, § references and negations in a generated
sentence must be found in the source it cites (issue: wrong answers carried a verified-looking [1])."""

from __future__ import annotations

import pytest

from kreiswissen.schema import Chunk, Source
from rag.verification import is_refusal, verify_answer

GEBUEHR = "Die Gebühr für die Umschreibung eines Gebrauchtwagens beträgt 27,60 Euro."
AUSWEIS = (
    "Ein vorläufiger Personalausweis ist höchstens drei Monate gültig. Die Fingerabdrücke werden "
    "nach Aushändigung des Ausweises gelöscht."
)


def _sources(*texts: str) -> list[Source]:
    return [
        Source(
            number=n,
            chunk=Chunk(
                id=f"c{n}", text=t, doc_id="d", title="Handbuch", section=f"{n} Abschnitt", source_path="/x"
            ),
            score=1.0,
        )
        for n, t in enumerate(texts, start=1)
    ]


@pytest.mark.parametrize(
    "sentence",
    [
        "Die Gebühr kostet 99 Euro [1].",  # wrong amount
        "Die Gebühr beträgt nicht 27,60 Euro [1].",  # negation the source does not have
        "Es fällt keine Gebühr an.",  # negated, no marker: must not get an automatic [1]
        "Die Gebühr für die Umschreibung eines Gebrauchtwagens beträgt 27,60 Euro [1] und ist in 14 Tagen fällig.",
    ],
)
def test_wrong_facts_fail_verification(sentence: str) -> None:
    verdict = verify_answer(sentence, _sources(GEBUEHR))
    assert verdict.unsupported_central, verdict
    assert verdict.dropped
    assert "[1]" not in verdict.text


@pytest.mark.parametrize(
    "sentence",
    [
        "Die Umschreibung eines Gebrauchtwagens kostet 27,60 Euro [1].",
        "Für die Umschreibung eines Gebrauchtwagens fällt eine Gebühr von 27,60 € an [1].",
        "Die Gebühr für die Umschreibung eines Gebrauchtwagens beträgt 27,60 Euro.",  # marker added
    ],
)
def test_correct_paraphrases_pass(sentence: str) -> None:
    verdict = verify_answer(sentence, _sources(GEBUEHR))
    assert not verdict.unsupported_central, verdict.dropped
    assert verdict.cited == [1]
    assert verdict.text.count("[1]") == 1


def test_duration_and_negation_are_checked_against_the_cited_source() -> None:
    sources = _sources(AUSWEIS)
    wrong = verify_answer("Der vorläufige Personalausweis ist drei Jahre gültig [1].", sources)
    assert wrong.unsupported_central and wrong.dropped
    right = verify_answer("Der vorläufige Personalausweis ist höchstens drei Monate gültig [1].", sources)
    assert right.cited == [1] and not right.dropped
    kept = verify_answer("Ja, meine Fingerabdrücke werden nicht gelöscht [1].", sources)
    assert kept.unsupported_central


def test_unsupported_side_sentence_is_dropped_and_reported() -> None:
    text = (
        "Die Umschreibung eines Gebrauchtwagens kostet 27,60 Euro [1]. "
        "Die Zulassungsstelle hat samstags von 8 bis 12 Uhr geöffnet [1]."
    )
    verdict = verify_answer(text, _sources(GEBUEHR))
    assert "27,60 Euro [1]" in verdict.text and "samstags" not in verdict.text
    assert len(verdict.dropped) == 1
    # the dropped sentence carried numbers: it is central, the extract must answer instead
    assert verdict.unsupported_central


def test_refusal_sentence_is_recognised() -> None:
    assert is_refusal("Dazu habe ich in den freigegebenen Dokumenten nichts gefunden.")
    assert not is_refusal("Die Gebühr beträgt 27,60 Euro [1].")
