"""Grounding: citation checks, refusals, follow-ups and the context budget, on real parts."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kreiswissen.schema import Chunk, Source
from kreiswissen.settings import GeneratorSettings
from rag.followup import is_followup, with_previous
from rag.generator import OpenAICompatibleGenerator
from rag.prompt import REFUSAL, topic_refusal
from rag.verification import verify_answer


def _source(n: int, text: str, title: str = "Handbuch Kfz-Zulassung", section: str = "3 Gebühren") -> Source:
    chunk = Chunk(
        id=f"c{n}", text=text, doc_id="handbuch", title=title, section=section, source_path="/x.pdf"
    )
    return Source(number=n, chunk=chunk, score=1.0)


SOURCES = [
    _source(1, "Die Gebühr für die Umschreibung eines Gebrauchtwagens beträgt 27,60 Euro."),
    _source(
        2, "Für ein Wunschkennzeichen werden zusätzlich 12,80 Euro erhoben.", section="4 Wunschkennzeichen"
    ),
]


def test_fabricated_citation_is_removed() -> None:
    verdict = verify_answer(
        "Die Umschreibung kostet 27,60 Euro [1]. Das Amt ist samstags geöffnet [9].", SOURCES
    )
    assert "[9]" not in verdict.text and "samstags" not in verdict.text
    assert verdict.cited == [1]


def test_citation_without_support_is_flagged() -> None:
    verdict = verify_answer("Die Zulassungsstelle ist samstags von 8 bis 12 Uhr geöffnet [2].", SOURCES)
    assert verdict.flagged == [2]
    assert verdict.cited == []
    assert verdict.dropped and verdict.unsupported_central


def test_missing_citation_is_added_when_a_source_clearly_says_it() -> None:
    verdict = verify_answer("Für ein Wunschkennzeichen werden zusätzlich 12,80 Euro erhoben.", SOURCES)
    assert verdict.cited == [2]
    assert verdict.text.endswith("[2].")


USED_CAR = "Welche Unterlagen brauche ich für die Zulassung eines Gebrauchtwagens?"


def _searched(answer_service, question: str, earlier: str):
    events = answer_service.stream(question, history=[earlier])
    first = next(events)
    events.close()
    assert first.kind == "sources"
    return first


def test_a_followup_is_searched_with_the_earlier_question_and_never_rewritten(answer_service) -> None:
    first = _searched(answer_service, "Und was kostet das?", USED_CAR)
    assert first.context_question == USED_CAR  # shown to the user: "Berücksichtigt: Ihre vorige Frage …"
    assert first.standalone_question == with_previous("Und was kostet das?", USED_CAR)
    assert any(s.chunk.doc_id.startswith(("handbuch-kfz", "verwaltungsgebuehren")) for s in first.sources)


def test_real_followups_find_the_section_they_ask_about(answer_service) -> None:
    fee = _searched(answer_service, "Was kostet das?", USED_CAR)
    assert fee.context_question == USED_CAR
    assert any(s.chunk.section.endswith("Gebühren") for s in fee.sources), [
        s.chunk.section for s in fee.sources
    ]
    minors = _searched(answer_service, "Und für Minderjährige?", USED_CAR)
    assert minors.context_question == USED_CAR
    assert any("Minderjährig" in s.chunk.text for s in minors.sources[:2])
    leave = "Wie viele Tage Sonderurlaub bekomme ich bei der Geburt meines Kindes?"
    officials = _searched(answer_service, "Gilt das auch für Beamte?", leave)
    top = officials.sources[0].chunk
    assert top.doc_id == "regelung-urlaub-gleitzeit" and "Geltungsbereich" in top.section


@pytest.mark.parametrize(
    "question",
    [
        "Wie hoch ist das Tagegeld bei einer Dienstreise?",
        "wie hoch ist das tagegeld?",
        "Gibt es ein Formular, das online ausgefüllt werden kann?",
        "Was muss ich beachten, damit mein Antrag schnell bearbeitet wird?",
    ],
)
def test_a_question_that_stands_alone_is_searched_alone(answer_service, question: str) -> None:
    first = _searched(answer_service, question, USED_CAR)
    assert first.context_question is None and first.standalone_question is None
    assert not any(s.chunk.doc_id.startswith("handbuch-kfz") for s in first.sources[:1])


def test_clear_anaphors_are_told_from_questions_with_their_own_subject() -> None:
    for question in (
        "Und was kostet das?",
        "Wer ist dafür zuständig?",
        "Was kostet es?",
        "Wie lange dauert das?",
    ):
        assert is_followup(question), question
    for question in (
        "Was kostet ein Reisepass?",
        "Gibt es eine Frist für den Widerspruch?",
        "Gibt es ein Formular, das online ausgefüllt werden kann?",
    ):
        assert not is_followup(question), question


def test_question_on_a_topic_no_document_mentions_is_refused_naming_it(answer_service) -> None:
    answer = answer_service.answer("Wie hoch ist die Hundesteuer für einen zweiten Hund?")
    assert answer.refused
    # Neither word occurs in the corpus; "Hund" is everyday German, so only "Hundesteuer" is named.
    assert answer.text == topic_refusal(["Hundesteuer"])
    assert answer.sources  # the closest documents are still shown
    assert answer.cited == []


def test_off_topic_question_in_everyday_words_is_refused_by_the_signals(answer_service) -> None:
    answer = answer_service.answer("Wie spät ist es auf dem Mond?")  # "Mond": absent, but common
    assert answer.refused and answer.text == REFUSAL


class _OpenAIStub(BaseHTTPRequestHandler):
    """A loopback server speaking the streaming chat-completions protocol (as vLLM does)."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in ["Die Gebühr ", "beträgt 27,60 Euro [1]."]:
            chunk = {"choices": [{"delta": {"content": piece}}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args) -> None:
        pass


def test_openai_compatible_generator_streams_from_a_server() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OpenAIStub)
    server.requests = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = GeneratorSettings(backend="openai", api_base=f"http://127.0.0.1:{server.server_port}/v1")
        generator = OpenAICompatibleGenerator(settings)
        tokens = list(
            generator.stream([{"role": "user", "content": "Frage"}], max_new_tokens=50, temperature=0)
        )
        assert "".join(tokens) == "Die Gebühr beträgt 27,60 Euro [1]."
        sent = server.requests[0]  # type: ignore[attr-defined]
        assert sent["stream"] is True and sent["max_tokens"] == 50 and sent["temperature"] == 0
    finally:
        server.shutdown()


def test_abbreviations_and_trailing_markers_stay_with_their_sentence() -> None:
    source = _source(
        1, "Die Panne wird nach Art. 33 DSGVO innerhalb von 72 Stunden gemeldet. Sie wird dokumentiert."
    )
    text = "Die Panne wird nach Art. 33 DSGVO innerhalb von 72 Stunden gemeldet. Sie wird dokumentiert. [1]"
    verdict = verify_answer(text, [source])
    assert "Art. 33" in verdict.text and "Art [1]" not in verdict.text
    assert verdict.text.count("[1]") == 2 and verdict.cited == [1]
