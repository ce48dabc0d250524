"""The chat page: question and streamed answer on the left, sources on the right."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from html import escape

import gradio as gr

from kreiswissen.settings import Settings
from rag.answer_service import AnswerService

from .render import answer_markdown, sources_html

log = logging.getLogger(__name__)

AI_NOTICE = (
    "**Hinweis:** Die Antworten erzeugt eine KI auf Grundlage der freigegebenen Dokumente der "
    "Kreisverwaltung. Sie können Fehler enthalten – prüfen Sie jede Aussage anhand der angegebenen Quellen."
)
ERROR_TEXT = "Es ist ein Fehler aufgetreten. Bitte versuchen Sie es erneut oder wenden Sie sich an die IT."

EXAMPLES = [
    "Welche Unterlagen brauche ich für die Zulassung eines Gebrauchtwagens?",
    "Bis wann muss eine Datenpanne gemeldet werden?",
    "Wie hoch ist das Tagegeld bei einer Dienstreise?",
]

CSS = """
.kw-notice { border-left: 4px solid #8a4b00; background: #fff4e5; color: #1f1f1f; padding: 0.5rem 0.75rem; }
.kw-source { border: 1px solid #6b6b6b; border-radius: 6px; padding: 0.5rem 0.75rem; margin-bottom: 0.75rem; }
.kw-source h4 { margin: 0 0 0.25rem 0; }
.kw-meta { color: #3d3d3d; margin: 0 0 0.25rem 0; }
.kw-passage { margin: 0.25rem 0; white-space: pre-wrap; }
.kw-passage mark { background: #ffe066; color: #000; }
.kw-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
"""


def build_app(settings: Settings, service: AnswerService | None = None) -> gr.Blocks:
    service = service or AnswerService(settings)

    def respond(
        question: str, history: list[dict], asked: list[str]
    ) -> Iterator[tuple[list[dict], str, str, list[str]]]:
        question = (question or "").strip()
        if not question:
            yield history, sources_html([], ""), "", asked
            return
        history = [*history, {"role": "user", "content": question}, {"role": "assistant", "content": ""}]
        yield history, '<p role="status">Suche in den Dokumenten …</p>', "", asked
        try:
            sources, prefix, searched = [], "", question
            for event in service.stream(question, history=asked):
                if event.kind == "sources":
                    sources = event.sources or []
                    if event.standalone_question:
                        searched = event.standalone_question
                        prefix = f"*Verstanden als: „{escape(searched)}“*\n\n"
                        history[-1]["content"] = prefix
                    yield history, sources_html(sources, searched), "", asked
                elif event.kind == "token":
                    history[-1]["content"] += event.token
                    yield history, gr.skip(), "", asked
                elif event.kind == "answer" and event.answer is not None:
                    history[-1]["content"] = prefix + answer_markdown(event.answer)
                    yield history, sources_html(sources, searched, event.answer), "", [*asked, searched]
        except Exception:
            log.exception("answer failed for a question")
            history[-1]["content"] = ERROR_TEXT
            yield history, gr.skip(), "", asked

    def api_answer(question: str, history: list[str] | None = None) -> dict:
        """Answer one question (with the earlier questions of the conversation, if any)."""
        answer = service.answer(question, history=history or [])
        return {
            "answer": answer.text,
            "standalone_question": answer.standalone_question,
            "refused": answer.refused,
            "cited": [_source_dict(s) for s in answer.cited_sources],
            "further": [_source_dict(s) for s in answer.further_sources],
            "timings": answer.timings,
        }

    with gr.Blocks(title="Kreiswissen – Wissensassistent der Kreisverwaltung") as app:
        gr.Markdown("# Kreiswissen\nWissensassistent der Kreisverwaltung – Antworten mit Quellenangaben")
        gr.Markdown(AI_NOTICE, elem_classes=["kw-notice"])
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    label="Unterhaltung",
                    height=480,
                    placeholder="Stellen Sie eine Frage zu Dienstanweisungen, Handbüchern oder Gesetzen.",
                    feedback_options=None,
                    buttons=["copy"],
                    elem_id="kw-chat",
                )
                question = gr.Textbox(
                    label="Ihre Frage",
                    placeholder="z. B. Welche Unterlagen brauche ich für die Zulassung eines Gebrauchtwagens?",
                    lines=2,
                    elem_id="kw-question",
                )
                with gr.Row():
                    ask = gr.Button("Fragen", variant="primary", elem_id="kw-ask")
                    clear = gr.Button("Neue Unterhaltung", elem_id="kw-new")
                gr.Examples(EXAMPLES, inputs=question, label="Beispielfragen")
            with gr.Column(scale=2):
                sources = gr.HTML(sources_html([], ""), label="Quellen", elem_id="kw-sources")
        asked = gr.State([])  # earlier standalone questions, for follow-ups
        outputs = [chat, sources, question, asked]
        ask.click(respond, [question, chat, asked], outputs, api_name=False)
        question.submit(respond, [question, chat, asked], outputs, api_name=False)
        clear.click(lambda: ([], sources_html([], ""), "", []), None, outputs, api_name=False)
        gr.api(api_answer, api_name="answer")
    return app


def _source_dict(source) -> dict:
    c = source.chunk
    return {
        "number": source.number,
        "doc_id": c.doc_id,
        "title": c.title,
        "section": c.section,
        "page": c.page,
        "text": c.text,
    }
