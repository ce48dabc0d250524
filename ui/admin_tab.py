"""The admin tab "Verwaltung": log in, re-index a collection in the background, watch and cancel it.

Gradio exposes every event as an HTTP endpoint, so hiding the controls protects nothing: each admin
handler checks the session token (issued at login, kept server-side, held in the browser session's
gr.State) before it does anything.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import gradio as gr

from embedding.backends import embedding_name
from kreiswissen.files import inside_any
from kreiswissen.settings import Settings
from rag.access import EVERYONE
from rag.answer_service import AnswerService

from .admin_auth import AdminSessions, LockedOut
from .ingest_job import IngestJob, JobState, job_status_text, last_run_html, progress_html
from .sign_in import request_client

NEW_COLLECTION = "__neu__"
DISABLED_HINT = (
    "Die Verwaltung ist nicht eingerichtet, weil kein Passwort festgelegt ist.\n\n"
    "So richten Sie sie ein: Erzeugen Sie auf dem Server mit `kreiswissen admin hash-password` einen "
    "Passwort-Hash und tragen Sie ihn in die Datei `kreiswissen.toml` ein:\n\n"
    '```toml\n[admin]\nuser = "admin"\npassword_hash = "pbkdf2_sha256$…"\n```\n\n'
    "(oder setzen Sie die Umgebungsvariable `KREISWISSEN_ADMIN__PASSWORD_HASH`). "
    "Starten Sie Kreiswissen danach neu."
)
DENIED = "Bitte melden Sie sich an. Ihre Sitzung ist abgelaufen oder ungültig."


def validate_collection_name(name: str) -> str | None:
    """German error message, or None when the name is usable."""
    name = name.strip()
    if not name:
        return "Bitte geben Sie einen Namen für die neue Sammlung ein."
    if len(name) > 60:
        return "Der Name der Sammlung darf höchstens 60 Zeichen lang sein."
    if any(not ch.isprintable() for ch in name) or name == "*" or name == NEW_COLLECTION:
        return "Der Name der Sammlung enthält unzulässige Zeichen."
    return None


def folder_allowed(folder: Path, settings: Settings) -> bool:
    """Whether admins may bind this folder: inside one of `ingest.admin_folders` (links resolved)."""
    target = folder.resolve()
    roots = [Path(f).expanduser().resolve() for f in settings.ingest.admin_folders]
    return inside_any(target, roots)


def parse_group_list(text: str) -> list[str]:
    names = sorted({g.strip() for g in (text or "").split(",") if g.strip()})
    return [EVERYONE] if EVERYONE in names else names


def build_admin_tab(
    settings: Settings, service: AnswerService, sessions: AdminSessions, job: IngestJob
) -> None:
    """Render the tab's content inside the current gr.Tab."""
    if not sessions.enabled:
        gr.Markdown(DISABLED_HINT, elem_id="kw-admin-disabled")
        return

    catalog = service.store.catalog
    token = gr.State(None)

    def choices() -> list[tuple[str, str]]:
        names = service.collections()
        return [(n, n) for n in names] + [("Neue Sammlung anlegen …", NEW_COLLECTION)]

    def default_choice() -> str:
        names = service.collections()
        if settings.collection in names:
            return settings.collection
        return names[0] if names else NEW_COLLECTION

    with gr.Column(visible=True, elem_id="kw-admin-login") as login_box:
        gr.Markdown("## Anmeldung für die Verwaltung")
        user = gr.Textbox(label="Benutzername", max_lines=1, elem_id="kw-admin-user")
        password = gr.Textbox(label="Passwort", type="password", max_lines=1, elem_id="kw-admin-password")
        login = gr.Button("Anmelden", variant="primary", elem_id="kw-admin-login-button")
        login_msg = gr.Markdown("", elem_id="kw-admin-login-message")

    with gr.Column(visible=False, elem_id="kw-admin-panel") as panel:
        with gr.Row():
            gr.Markdown("## Dokumente indexieren")
            logout = gr.Button("Abmelden", size="sm", scale=0, min_width=120, elem_id="kw-admin-logout")
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=320):
                # Filled at login: the page's config (readable by every user) holds no collection names.
                collection = gr.Dropdown(
                    label="Sammlung", choices=[], value=None, elem_id="kw-admin-collection"
                )
                new_name = gr.Textbox(
                    label="Name der neuen Sammlung", max_lines=1, visible=False, elem_id="kw-admin-new-name"
                )
                folder = gr.Textbox(
                    label="Ordner auf dem Server (vollständiger Pfad)",
                    max_lines=1,
                    visible=False,
                    elem_id="kw-admin-folder",
                )
                folders_info = gr.Markdown("", elem_id="kw-admin-folders")
                groups = gr.Textbox(
                    label="Lesen dürfen die Gruppen (durch Komma getrennt; * = alle Beschäftigten)",
                    max_lines=1,
                    elem_id="kw-admin-groups",
                )
                save_groups = gr.Button("Gruppen speichern", size="sm", elem_id="kw-admin-save-groups")
                full = gr.Checkbox(
                    label="Vollständig neu aufbauen (alle Dateien neu einlesen; "
                    "bis zum Abschluss bleibt der bisherige Stand durchsuchbar)",
                    value=False,
                    elem_id="kw-admin-full",
                )
                with gr.Row():
                    start = gr.Button("Neu indexieren", variant="primary", elem_id="kw-admin-start")
                    cancel = gr.Button("Indexierung abbrechen", variant="stop", elem_id="kw-admin-cancel")
                action_msg = gr.Markdown("", elem_id="kw-admin-message")
                gr.Markdown("### Fortschritt")
                progress = gr.HTML(progress_html(JobState()), elem_id="kw-admin-progress")
                status_line = gr.HTML('<p class="kw-sr"></p>', elem_id="kw-admin-status")
            with gr.Column(scale=1, min_width=320):
                gr.Markdown("### Letzter Lauf")
                summary = gr.HTML("", elem_id="kw-admin-summary")
        shown = gr.State("")  # last rendered progress, to skip identical updates
    timer = gr.Timer(1.0, active=False)

    def folders_text(name: str) -> str:
        if name == NEW_COLLECTION:
            return "Erlaubte Ordner: " + ", ".join(f"`{f}`" for f in settings.ingest.admin_folders)
        found = catalog.collection(name)
        folders = found["folders"] if found else []
        if not folders:
            return "Für diese Sammlung ist kein Ordner hinterlegt."
        return "Ordner: " + ", ".join(f"`{f}`" for f in folders)

    def groups_text(name: str) -> str:
        if name == NEW_COLLECTION:
            return ", ".join(settings.access.default_groups)
        found = catalog.collection(name)
        return ", ".join(found["groups"] if found else [])

    def summary_for(name: str) -> str:
        return "" if name == NEW_COLLECTION else last_run_html(catalog.last_run(name), name)

    def status_html(state: JobState) -> str:
        return f'<p class="kw-sr">{escape(job_status_text(state))}</p>'

    def panel_outputs(name: str) -> tuple:
        state = job.snapshot()
        return (
            gr.update(choices=choices(), value=name),
            gr.update(visible=name == NEW_COLLECTION),
            gr.update(visible=name == NEW_COLLECTION),
            folders_text(name),
            progress_html(state),
            summary_for(name),
            groups_text(name),
        )

    def do_login(user_name: str, secret: str, request: gr.Request):
        try:
            issued = sessions.login(user_name, secret, request_client(request, settings))
        except LockedOut as exc:
            issued, text = None, exc.message_de
        else:
            text = "" if issued else "Benutzername oder Passwort ist falsch."
        if not issued:
            return (None, "", f'<span role="alert">{text}</span>', gr.skip(), gr.skip(), gr.skip()) + (
                gr.skip(),
            ) * 8
        name = default_choice()
        return (
            issued,
            "",
            "",
            gr.update(visible=False),
            gr.update(visible=True),
            gr.Timer(active=True),
            # What the panel shows now counts as seen: the first tick must not re-apply the end of an
            # earlier run (select its collection, hide the new-collection fields) over the admin's choice.
            progress_html(job.snapshot()),
            *panel_outputs(name),
        )

    def do_logout(current: str | None):
        sessions.logout(current)
        return None, gr.update(visible=True), gr.update(visible=False), gr.Timer(active=False), "", ""

    def on_collection(current: str | None, name: str):
        if not sessions.valid(current):
            return gr.skip(), gr.skip(), "", DENIED, ""
        return (
            gr.update(visible=name == NEW_COLLECTION),
            gr.update(visible=name == NEW_COLLECTION),
            folders_text(name),
            summary_for(name),
            groups_text(name),
        )

    def do_save_groups(current: str | None, name: str, wanted: str):
        if not sessions.valid(current):
            return DENIED
        if name == NEW_COLLECTION:
            return "Die Gruppen werden beim Anlegen der neuen Sammlung gespeichert."
        names = parse_group_list(wanted)
        if not catalog.set_groups(name, names):
            return "Bitte wählen Sie eine Sammlung aus."
        return f"Die Sammlung „{name}“ lesen jetzt: {', '.join(names) or 'niemand'}."

    def do_start(current: str | None, name: str, new: str, path: str, rebuild: bool, wanted: str):
        if not sessions.valid(current):
            return DENIED, gr.skip(), gr.skip()
        if name == NEW_COLLECTION:
            error = validate_collection_name(new or "")
            if error:
                return error, gr.skip(), gr.skip()
            name = new.strip()
            if name in service.collections():
                return (
                    f"Die Sammlung „{name}“ gibt es schon. Bitte wählen Sie sie in der Liste aus.",
                    gr.skip(),
                    gr.skip(),
                )
            if not (path or "").strip():
                return (
                    "Bitte geben Sie den Ordner an, dessen Dokumente indexiert werden sollen.",
                    gr.skip(),
                    gr.skip(),
                )
            root = Path(path.strip()).expanduser()
            if not root.is_dir():
                return f"Der Ordner „{root}“ existiert nicht oder ist kein Ordner.", gr.skip(), gr.skip()
            if not folder_allowed(root, settings):
                allowed = ", ".join(f"„{f}“" for f in settings.ingest.admin_folders) or "keine"
                return (
                    f"Der Ordner „{root}“ liegt nicht in einem freigegebenen Ordner ({allowed}). "
                    "Freigegeben werden Ordner in der Einstellung [ingest] admin_folders.",
                    gr.skip(),
                    gr.skip(),
                )
            folders = [root.resolve()]
            if job.snapshot().running:
                return (
                    "Es läuft bereits eine Indexierung. Bitte warten Sie, bis sie fertig ist.",
                    gr.skip(),
                    gr.skip(),
                )
            # Created before the run with its groups, so that it is never readable by the defaults.
            embedding = embedding_name(settings.embedding)
            catalog.ensure_collection(name, embedding, [str(folders[0])], parse_group_list(wanted))
        else:
            found = catalog.collection(name)
            if found is None:
                return "Bitte wählen Sie eine Sammlung aus.", gr.skip(), gr.skip()
            known = found["folders"]
            if not known:
                return "Für diese Sammlung ist kein Ordner hinterlegt.", gr.skip(), gr.skip()
            folders = [Path(f) for f in known]
            missing = [str(f) for f in folders if not f.is_dir()]
            if missing:
                return f"Der Ordner „{missing[0]}“ existiert nicht mehr.", gr.skip(), gr.skip()
        error = job.start(name, folders, bool(rebuild))
        if error:
            return error, gr.skip(), gr.skip()
        state = job.snapshot()
        return f"Indexierung der Sammlung „{name}“ gestartet.", progress_html(state), status_html(state)

    def do_cancel(current: str | None):
        if not sessions.valid(current):
            return DENIED
        if job.cancel():
            return (
                "Abbruch angefordert. Bereits indexierte Dateien bleiben erhalten; bei einem vollständigen "
                "Neuaufbau bleibt der bisherige Stand der Sammlung unverändert."
            )
        return "Es läuft keine Indexierung."

    def tick(current: str | None, seen: str, name: str):
        if not sessions.valid(current):
            return gr.Timer(active=False), *[gr.skip()] * 8
        state = job.snapshot()
        html = progress_html(state)
        if html == seen:
            return (gr.skip(),) * 9
        if state.running or state.status == "idle":
            return gr.skip(), html, html, status_html(state), *[gr.skip()] * 5
        # Finished: show the run's collection (a new one is now in the list) and its summary.
        return (
            gr.skip(),
            html,
            html,
            status_html(state),
            summary_for(state.collection),
            gr.update(choices=choices(), value=state.collection),
            gr.update(visible=False, value=""),
            gr.update(visible=False, value=""),
            folders_text(state.collection),
        )

    admin = {"api_visibility": "private", "api_name": False}
    panel_fields = [collection, new_name, folder, folders_info, progress, summary, groups]
    login_outputs = [token, password, login_msg, login_box, panel, timer, shown, *panel_fields]
    login.click(do_login, [user, password], login_outputs, **admin)
    password.submit(do_login, [user, password], login_outputs, **admin)
    logout.click(do_logout, [token], [token, login_box, panel, timer, summary, action_msg], **admin)
    collection.input(
        on_collection, [token, collection], [new_name, folder, folders_info, summary, groups], **admin
    )
    save_groups.click(do_save_groups, [token, collection, groups], [action_msg], **admin)
    start.click(
        do_start,
        [token, collection, new_name, folder, full, groups],
        [action_msg, progress, status_line],
        **admin,
    )
    cancel.click(do_cancel, [token], [action_msg], **admin)
    timer.tick(
        tick,
        [token, shown, collection],
        [timer, progress, shown, status_line, summary, collection, new_name, folder, folders_info],
        concurrency_limit=None,
        show_progress="hidden",
        **admin,
    )
