"""Grounding: citation checks, refusals, follow-ups and the context budget, on real parts."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kreiswissen.schema import Chunk, Source
from kreiswissen.settings import GeneratorSettings
from rag.followup import rewrite
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


def test_followup_takes_the_subject_of_the_previous_turn() -> None:
    previous = ["Welche Unterlagen brauche ich für die Zulassung eines Gebrauchtwagens?"]
    assert rewrite("Und was kostet das?", previous) == "Was kostet die Zulassung eines Gebrauchtwagens?"
    assert (
        rewrite("Wer ist dafür zuständig?", previous)
        == "Wer ist für die Zulassung eines Gebrauchtwagens zuständig?"
    )
    assert rewrite("Wie hoch ist das Tagegeld bei einer Dienstreise?", previous) is None
    assert rewrite("Und was kostet das?", []) is None


def test_followup_is_rewritten_before_retrieval(answer_service) -> None:
    history = ["Welche Unterlagen brauche ich für die Zulassung eines Gebrauchtwagens?"]
    events = answer_service.stream("Und was kostet das?", history=history)
    first = next(events)
    events.close()
    assert first.kind == "sources"
    assert first.standalone_question == "Was kostet die Zulassung eines Gebrauchtwagens?"
    assert any(s.chunk.doc_id.startswith(("handbuch-kfz", "verwaltungsgebuehren")) for s in first.sources)


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


def test_short_questions_with_their_own_subject_are_not_followups() -> None:
    previous = ["Welche Unterlagen brauche ich für die Zulassung eines Gebrauchtwagens?"]
    assert rewrite("Was kostet ein Reisepass?", previous) is None
    assert rewrite("Was ist das Tagegeld?", previous) is None
    assert rewrite("Gibt es eine Frist für den Widerspruch?", previous) is None
    # … while real follow-ups still take the subject of the turn before
    assert rewrite("Was kostet es?", previous) == "Was kostet die Zulassung eines Gebrauchtwagens?"
    assert (
        rewrite("Wie lange dauert das?", previous) == "Wie lange dauert die Zulassung eines Gebrauchtwagens?"
    )
