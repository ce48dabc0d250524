"""The web UI: chat with sources ("Fragen"), the admin tab ("Verwaltung") and "Über dieses System"."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import gradio as gr

from kreiswissen.settings import Settings
from rag.access import NotReadable, User, readable_collections
from rag.answer_service import ALL_COLLECTIONS, AnswerService

from .about_page import about_html
from .admin_auth import AdminSessions
from .admin_tab import build_admin_tab
from .feedback import AnswerRecord, FeedbackStore
from .ingest_job import IngestJob
from .render import answer_markdown, extract_markdown, plain, queue_markdown, sources_html
from .sign_in import SignIn, user_line

log = logging.getLogger(__name__)

AI_NOTICE = (
    "**Hinweis:** Die Antworten erzeugt eine KI auf Grundlage der freigegebenen Dokumente der "
    "Kreisverwaltung. Sie können Fehler enthalten – prüfen Sie jede Aussage anhand der angegebenen Quellen."
)
ERROR_TEXT = "Es ist ein Fehler aufgetreten. Bitte versuchen Sie es erneut oder wenden Sie sich an die IT."
ALL_LABEL = "Alle Sammlungen"

EXAMPLES = [
    "Welche Unterlagen brauche ich für die Zulassung eines Gebrauchtwagens?",
    "Bis wann muss eine Datenpanne gemeldet werden?",
    "Wie hoch ist das Tagegeld bei einer Dienstreise?",
]

# A thumb (Material Icons "thumb_up", Apache-2.0) as a CSS mask: decorative, never announced.
THUMB = (
    "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'><path d='M1 21h4V9H1v12z"
    "m22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10"
    "c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z'/></svg>"
)

# Colours meet WCAG AA contrast (4.5:1 for text) on white; focus is always visible.
CSS = """
.kw-notice { border-left: 4px solid #8a4b00; background: #fff4e5; color: #1f1f1f; padding: 0.5rem 0.75rem; }
.kw-notice p { color: #1f1f1f; }
.kw-source { border: 1px solid #6b6b6b; border-radius: 6px; padding: 0.5rem 0.75rem; margin-bottom: 0.75rem; }
.kw-source h4 { margin: 0 0 0.25rem 0; }
.kw-meta { color: #3d3d3d; margin: 0 0 0.25rem 0; }
.kw-passage { margin: 0.25rem 0; white-space: pre-wrap; }
.kw-passage mark { background: #ffe066; color: #000; }
.kw-source a { color: #0b4ea2; text-decoration: underline; }
.kw-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.kw-table { border-collapse: collapse; margin: 0.5rem 0 1rem 0; }
.kw-table caption { text-align: left; font-weight: bold; padding: 0.25rem 0; }
.kw-table th, .kw-table td { border: 1px solid #6b6b6b; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
.kw-num-cell { text-align: right !important; }
.kw-facts dt { font-weight: bold; margin-top: 0.5rem; }
.kw-facts dd { margin-left: 1rem; }
.kw-progress progress { width: 100%; height: 1rem; }
#kw-sources { max-height: 44rem; overflow-y: auto; }
#kw-good::before, #kw-bad::before {
  content: ""; display: inline-block; width: 1.15em; height: 1.15em; margin-right: 0.4em;
  vertical-align: -0.2em; background: currentColor; mask: url("{THUMB}") no-repeat center / contain;
  -webkit-mask: url("{THUMB}") no-repeat center / contain;
}
#kw-bad::before { transform: rotate(180deg); }
.dark .kw-meta { color: #d1d5db; }
.dark .kw-source a { color: #9cc3ff; }
:focus-visible { outline: 3px solid #0b4ea2 !important; outline-offset: 2px !important; }
""".replace("{THUMB}", THUMB)


SIGN_IN_AGAIN = "Ihre Anmeldung ist abgelaufen. Bitte laden Sie die Seite neu und melden Sie sich an."


def collection_choices(readable: set[str]) -> list[tuple[str, str]]:
    return [(ALL_LABEL, ALL_COLLECTIONS)] + [(name, name) for name in sorted(readable)]


def default_collection(settings: Settings, readable: set[str]) -> str:
    return settings.collection if settings.collection in readable else ALL_COLLECTIONS


def build_app(
    settings: Settings,
    service: AnswerService | None = None,
    feedback: FeedbackStore | None = None,
    sessions: AdminSessions | None = None,
    job: IngestJob | None = None,
    sign_in: SignIn | None = None,
) -> gr.Blocks:
    """The UI. Nothing in it depends on a value the browser sends about who is asking: each handler
    looks up the user from its request (SignIn) and what they may read (rag.access)."""
    service = service or AnswerService(settings)
    feedback = feedback or FeedbackStore.for_settings(settings)
    sessions = sessions or AdminSessions(settings)
    job = job or IngestJob(settings, service)
    sign_in = sign_in or SignIn(settings)

    def readable(request: gr.Request | None) -> tuple[User | None, set[str]]:
        user = sign_in.request_user(request)
        return user, (readable_collections(service.store.catalog, user) if user else set())

    with gr.Blocks(title="Kreiswissen – Wissensassistent der Kreisverwaltung") as app:
        gr.Markdown("# Kreiswissen\nWissensassistent der Kreisverwaltung – Antworten mit Quellenangaben")
        gr.Markdown(AI_NOTICE, elem_classes=["kw-notice"], elem_id="kw-notice")
        who = gr.HTML("", elem_id="kw-user")
        with gr.Tabs(elem_id="kw-tabs"):
            with gr.Tab("Fragen", id="fragen", elem_id="kw-tab-chat"):
                chat_ui = _build_chat(settings, service, feedback, readable)
            with gr.Tab("Verwaltung", id="verwaltung", elem_id="kw-tab-admin"):
                build_admin_tab(settings, service, sessions, job)
            with gr.Tab("Über dieses System", id="ueber", elem_id="kw-tab-about") as about_tab:
                # Filled per user on page load: the page's config holds no collection names.
                about = gr.HTML(about_html(settings, service, set()), elem_id="kw-about")

        def refresh(request: gr.Request) -> tuple:
            user, names = readable(request)
            return (
                gr.update(choices=collection_choices(names), value=default_collection(settings, names)),
                about_html(settings, service, names),
                user_line(user, sign_in.has_accounts),
            )

        def about_for(request: gr.Request) -> str:
            return about_html(settings, service, readable(request)[1])

        app.load(refresh, None, [chat_ui, about, who], api_name=False, api_visibility="private")
        about_tab.select(about_for, None, about, api_name=False, api_visibility="private")

        def api_answer(
            question: str, history: list[str] | None = None, request: gr.Request = None
        ) -> Iterator[dict]:  # type: ignore[assignment]
            """Answer one question (with the earlier questions of the conversation, if any) from the
            collections the caller may read. Streams twice: the extract as soon as it is there, then
            the checked answer."""
            user, names = readable(request)
            if user is None:
                raise gr.Error(SIGN_IN_AGAIN)
            collection = settings.collection if settings.collection in names else ALL_COLLECTIONS
            answer = None
            for event in service.stream(question, collection, history or [], allowed=names, user=user):
                if event.kind == "extract" and event.extract is not None:
                    yield {"stage": "extract", "extract": event.extract.passage_texts()}
                elif event.kind == "answer":
                    answer = event.answer
            assert answer is not None
            yield {"stage": "answer"} | answer.to_dict(
                "extract",
                "verified",
                "notice",
                "answer",
                "standalone_question",
                "context_question",
                "outcome",
                "refused",
                "cited",
                "further",
                "timings",
                source_fields=API_SOURCE_FIELDS,
            )

        gr.api(api_answer, api_name="answer", concurrency_limit=ANSWER_CONCURRENCY)
    return app


API_SOURCE_FIELDS = ("number", "doc_id", "title", "section", "page", "text")  # per source in the API answer
ANSWER_CONCURRENCY = 64  # questions in flight at once; only their generation steps wait in line


def _build_chat(
    settings: Settings,
    service: AnswerService,
    feedback: FeedbackStore,
    readable: Callable[[gr.Request | None], tuple[User | None, set[str]]],
) -> gr.Dropdown:
    """The chat tab's content; returns the collection picker (filled per user on page load)."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=320):
            collection = gr.Dropdown(
                label="Sammlung",
                info="In welchen Dokumenten gesucht wird",
                choices=collection_choices(set()),
                value=ALL_COLLECTIONS,
                elem_id="kw-collection",
            )
            chat = gr.Chatbot(
                label="Unterhaltung",
                height=480,
                placeholder="**Stellen Sie eine Frage** zu Dienstanweisungen, Handbüchern oder Gesetzen – "
                "oder wählen Sie eine Beispielfrage:",
                examples=[{"text": q} for q in EXAMPLES],
                feedback_options=None,
                buttons=["copy"],
                elem_id="kw-chat",
            )
            question = gr.Textbox(
                label="Ihre Frage",
                info="Eingabetaste: Frage absenden · Umschalt + Eingabetaste: neue Zeile",
                placeholder="z. B. Wie hoch ist das Tagegeld bei einer Dienstreise?",
                lines=1,
                max_lines=6,
                elem_id="kw-question",
            )
            with gr.Row():
                ask = gr.Button("Fragen", variant="primary", elem_id="kw-ask")
                stop = gr.Button("Stopp", variant="stop", elem_id="kw-stop")
                clear = gr.Button("Neue Unterhaltung", elem_id="kw-new")
            with gr.Column(visible=False, elem_id="kw-feedback") as feedback_box, gr.Group():
                comment = gr.Textbox(
                    label="Rückmeldung zur letzten Antwort – Kommentar (optional)",
                    placeholder="Was war gut, was fehlte oder war falsch? Bitte keine personenbezogenen Daten.",
                    lines=2,
                    max_lines=6,
                    elem_id="kw-comment",
                )
                with gr.Row():
                    good = gr.Button("Hilfreich", size="sm", elem_id="kw-good")
                    bad = gr.Button("Nicht hilfreich", size="sm", elem_id="kw-bad")
                thanks = gr.Markdown("", elem_id="kw-feedback-status")
        with gr.Column(scale=2, min_width=300):
            gr.Markdown("## Quellen")
            sources = gr.HTML(sources_html([], ""), elem_id="kw-sources")

    asked = gr.State([])  # the user's earlier questions, for follow-ups
    record = gr.State(None)  # AnswerRecord of the last answer, for feedback
    feedback_id = gr.State(None)  # row of the feedback already given on it

    def respond(
        text: str, history: list[dict], earlier: list[str], picked: str, request: gr.Request
    ) -> Iterator[dict]:
        text = (text or "").strip()
        if not text:
            yield {question: ""}
            return
        user, names = readable(request)
        picked = picked or ALL_COLLECTIONS
        if user is None or (picked != ALL_COLLECTIONS and picked not in names):
            refusal = SIGN_IN_AGAIN if user is None else str(NotReadable(picked))
            history = [*history, {"role": "user", "content": text}, {"role": "assistant", "content": refusal}]
            yield {chat: history, sources: sources_html([], ""), question: ""}
            return
        history = [*history, {"role": "user", "content": text}, {"role": "assistant", "content": ""}]
        yield {
            chat: history,
            sources: '<p role="status">Suche in den Dokumenten …</p>',
            question: "",
            record: None,
            feedback_id: None,
            feedback_box: gr.update(visible=False),
            thanks: "",
            comment: "",
        }
        try:
            found, prefix, searched, quoted, generated = [], "", text, "", ""
            for event in service.stream(text, picked, earlier, allowed=names, user=user):
                if event.kind == "sources":
                    found = event.sources or []
                    if event.context_question:  # searched together with the earlier question
                        searched = event.standalone_question or text
                        prefix = f"*Berücksichtigt: Ihre vorige Frage „{plain(event.context_question)}“*\n\n"
                        history[-1]["content"] = prefix
                    yield {chat: history, sources: sources_html(found, searched)}
                elif event.kind == "extract":
                    quoted = prefix + extract_markdown(event.extract, found)
                    history[-1]["content"] = quoted
                    yield {chat: history}
                elif event.kind == "queued":
                    history[-1]["content"] = f"{quoted}\n\n{queue_markdown(event.position)}"
                    yield {chat: history}
                elif event.kind == "token":
                    generated += event.token
                    history[-1]["content"] = f"{quoted}\n\n*Antwort wird formuliert …*\n\n{plain(generated)}"
                    yield {chat: history}
                elif event.kind == "answer" and event.answer is not None:
                    history[-1]["content"] = prefix + answer_markdown(event.answer)
                    yield {
                        chat: history,
                        sources: sources_html(found, searched, event.answer),
                        asked: [*earlier, text],  # the user's own questions, never rewritten
                        record: AnswerRecord.from_answer(
                            event.answer, _collection_label(picked, settings), settings
                        ),
                        feedback_box: gr.update(visible=True),
                    }
        except Exception:
            log.exception("answer failed for a question")
            history[-1]["content"] = ERROR_TEXT
            yield {chat: history}

    def rate(
        rating: int, last: AnswerRecord | None, given: int | None, remark: str, request: gr.Request | None
    ) -> tuple:
        if readable(request)[0] is None:
            return given, SIGN_IN_AGAIN
        if last is None:
            return given, "Es gibt noch keine Antwort, die Sie bewerten können."
        row = feedback.save(last, rating, remark, feedback_id=given)
        word = "hilfreich" if rating > 0 else "nicht hilfreich"
        return row, f"Danke! Ihre Rückmeldung („{word}“) wurde gespeichert."

    def use_example(evt: gr.SelectData) -> str:
        value = evt.value
        return value.get("text", "") if isinstance(value, dict) else str(value)

    private = {"api_name": False, "api_visibility": "private"}
    inputs = [question, chat, asked, collection]
    outputs = [chat, sources, question, asked, record, feedback_id, feedback_box, thanks, comment]
    # Retrieval and the extract run for every user at once; generation queues in the AnswerService,
    # which reports the position. "Stopp" cancels the event, which closes the stream and stops the model.
    answering = {**private, "concurrency_limit": ANSWER_CONCURRENCY}
    events = [
        ask.click(respond, inputs, outputs, **answering),
        question.submit(respond, inputs, outputs, **answering),
        chat.example_select(use_example, None, question, **private).then(
            respond, inputs, outputs, **answering
        ),
    ]
    stop.click(None, None, None, cancels=events, **private)

    def reset() -> tuple:
        return [], sources_html([], ""), "", [], None, None, gr.update(visible=False), "", ""

    clear.click(reset, None, outputs, **private)
    chat.clear(reset, None, outputs, **private)  # the chat's own "Leeren" button

    def rate_good(last: AnswerRecord | None, given: int | None, remark: str, request: gr.Request) -> tuple:
        return rate(1, last, given, remark, request)

    def rate_bad(last: AnswerRecord | None, given: int | None, remark: str, request: gr.Request) -> tuple:
        return rate(-1, last, given, remark, request)

    good.click(rate_good, [record, feedback_id, comment], [feedback_id, thanks], **private)
    bad.click(rate_bad, [record, feedback_id, comment], [feedback_id, thanks], **private)
    return collection


def _collection_label(picked: str | None, settings: Settings) -> str:
    return ALL_LABEL if picked == ALL_COLLECTIONS else (picked or settings.collection)
