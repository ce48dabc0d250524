"""Three outcomes instead of a yes/no gate: a clear match is answered, a weak match shows the nearest
passages without generated text, and only where nothing is relevant is no passage shown."""

from __future__ import annotations

from kreiswissen.schema import Answer, Chunk, Evidence, Extract, Source
from kreiswissen.settings import RetrievalSettings
from rag.prompt import weak_notice
from rag.relevance_gate import assess, without_asked_fact
from rag.retrieval import Retrieved
from ui.render import EXTRACT_HEADING, GENERATED_HEADING, WEAK_HEADING, answer_markdown

SETTINGS = RetrievalSettings()
TEXT = "Die Fundsache wird sechs Monate aufbewahrt. Danach fällt sie an den Finder."


def _retrieved(dense: float, text: str = TEXT, absent: list[str] | None = None) -> Retrieved:
    chunk = Chunk(id="c1", text=text, doc_id="d", title="Fundsachen", section="§ 3", source_path="/d.md")
    return Retrieved(sources=[Source(1, chunk, 1.0)], dense={"c1": dense}, absent=absent or [])


def test_a_clear_match_is_answered() -> None:
    assert assess("Wie lange wird eine Fundsache aufbewahrt?", _retrieved(0.90), SETTINGS).outcome == "answer"


def test_a_match_below_the_clear_bar_is_weak_not_hidden() -> None:
    between = (SETTINGS.gate_weak_dense + SETTINGS.gate_min_dense) / 2
    relevance = assess("Was passiert mit meinem verlorenen Schlüsselbund?", _retrieved(between), SETTINGS)
    assert relevance.outcome == "weak" and not relevance.relevant


def test_nothing_relevant_is_refused() -> None:
    below = SETTINGS.gate_weak_dense - 0.05
    assert assess("Wie spät ist es auf dem Mond?", _retrieved(below), SETTINGS).outcome == "refused"
    assert assess("Wie spät ist es?", Retrieved(sources=[]), SETTINGS).outcome == "refused"


def test_a_word_no_document_uses_demotes_a_clear_match_to_weak_never_refuses() -> None:
    # "Hofhund" is everyday wording the documents do not use: the passage must still be shown.
    relevance = assess(
        "Wie lange wird mein Hofhund aufbewahrt?", _retrieved(0.90, absent=["Hofhund"]), SETTINGS
    )
    assert relevance.foreign == ["Hofhund"]
    assert relevance.outcome == "weak"


def test_a_clear_match_without_the_kind_of_fact_asked_for_is_only_weak() -> None:
    clear = assess("Was kostet bei uns das Abholen einer Fundsache?", _retrieved(0.90), SETTINGS)
    assert clear.outcome == "answer"
    # The passage names a duration, the question asks for an amount: the model would have to invent it.
    assert (
        without_asked_fact(clear, "Was kostet bei uns das Abholen einer Fundsache?", TEXT).outcome == "weak"
    )
    assert without_asked_fact(clear, "Wie lange wird eine Fundsache aufbewahrt?", TEXT).outcome == "answer"
    assert without_asked_fact(clear, "Wer bekommt die Fundsache danach?", TEXT).outcome == "answer"
    lock = "Nach fünf Fehlversuchen wird das Konto für 30 Minuten gesperrt."
    assert without_asked_fact(clear, "Wie lange ist mein Konto gesperrt?", lock).outcome == "answer"
    count = "Ab 20 Plusstunden zeigt die Ampel Rot."  # a count, not money
    assert (
        without_asked_fact(clear, "Ab wie vielen Plusstunden wird die Ampel rot?", count).outcome == "answer"
    )
    fee = "Für die Aufbewahrung wird eine Gebühr von 5 Euro erhoben."
    assert without_asked_fact(clear, "Was kostet die Aufbewahrung einer Fundsache?", fee).outcome == "answer"


def _answer(weak: bool) -> Answer:
    chunk = Chunk(id="c1", text=TEXT, doc_id="d", title="Fundsachen", section="§ 3", source_path="/d.md")
    extract = Extract(evidence=[Evidence(1, "Die Fundsache wird sechs Monate aufbewahrt.", 1.0)], weak=weak)
    answer = Answer("Frage?", extract.quoted(), [Source(1, chunk, 1.0)], cited=[1], extract=extract)
    if weak:
        answer.notice = weak_notice(["Hofhund"])
    return answer


def test_a_weak_match_shows_the_nearest_passages_under_their_own_heading_and_says_why() -> None:
    answer = _answer(weak=True)
    assert answer.outcome == "weak" and answer.to_dict("outcome") == {"outcome": "weak"}
    shown = answer_markdown(answer)
    assert WEAK_HEADING in shown and EXTRACT_HEADING not in shown
    assert "sechs Monate aufbewahrt" in shown
    assert "„Hofhund“ kommt in den freigegebenen Dokumenten nicht vor" in shown
    assert GENERATED_HEADING not in shown
    clear = answer_markdown(_answer(weak=False))
    assert EXTRACT_HEADING in clear and WEAK_HEADING not in clear


def test_the_first_example_question_quotes_the_used_car_section_first(answer_service) -> None:
    """The UI's first example, through the real answer path up to the extract (no generation): a used
    car is registered by "Umschreibung" (3.1), not by the new-car rules of 2.1 that share "Zulassung"."""
    from ui.app import EXAMPLES

    assert "Gebrauchtwagen" in EXAMPLES[0]
    events = answer_service.stream(EXAMPLES[0])
    extract = next(e.extract for e in events if e.kind == "extract")
    events.close()
    assert extract is not None and not extract.weak
    sources = {s.number: s for s in answer_service.retrieve(EXAMPLES[0]).sources}
    first = sources[extract.evidence[0].source_number].chunk.section
    assert "3.1" in first and "Halterwechsel" in first, first
