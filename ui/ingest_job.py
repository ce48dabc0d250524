"""The background re-index of the admin tab: one job at a time, its live state, and its HTML."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from html import escape
from pathlib import Path

from embedding.client import EmbeddingServiceError
from ingest.progress import duration_de, rate_de
from ingest.service import IngestReport, IngestService, Progress
from kreiswissen.settings import Settings
from rag.answer_service import AnswerService
from store.catalog import EmbeddingMismatch

from .about_page import format_time

log = logging.getLogger(__name__)


@dataclass
class JobState:
    collection: str = ""
    status: str = "idle"  # idle | running | done | cancelled | failed
    files_total: int = 0
    files_done: int = 0
    chunks_done: int = 0
    current: str = ""
    started: float = 0.0
    finished: float = 0.0
    message: str = ""  # German summary or error
    failed: list[tuple[str, str]] = field(default_factory=list)
    progress: Progress | None = None  # the service's last report: rates and time remaining
    eta_then: float | None = None  # time remaining as estimated at the last report ...
    updated: float = 0.0  # ... at this time

    @property
    def running(self) -> bool:
        return self.status == "running"

    def eta_seconds(self) -> float | None:
        """Counts down between the service's reports, instead of growing while a big file embeds."""
        if not self.running or self.eta_then is None:
            return None
        return max(0.0, self.eta_then - (time.time() - self.updated))


class IngestJob:
    """At most one re-index at a time, in a background thread, so that the chat keeps answering."""

    def __init__(self, settings: Settings, service: AnswerService) -> None:
        self.settings = settings
        self.service = service
        self._ingest: IngestService | None = None
        self._state = JobState()
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def snapshot(self) -> JobState:
        with self._lock:
            s = self._state
            return replace(s, failed=list(s.failed), progress=replace(s.progress) if s.progress else None)

    def start(self, collection: str, folders: list[Path], full: bool) -> str | None:
        """Start a run; returns a German error message when it cannot start."""
        with self._lock:
            if self._state.running:
                return f"Es läuft bereits eine Indexierung (Sammlung „{self._state.collection}“)."
            self._cancel = threading.Event()
            self._state = JobState(collection=collection, status="running", started=time.time())
            self._thread = threading.Thread(
                target=self._run,
                args=(collection, folders, full, self._cancel),
                name="kw-ingest",
                daemon=True,
            )
            self._thread.start()
        return None

    def cancel(self) -> bool:
        with self._lock:
            if not self._state.running:
                return False
            self._cancel.set()
            self._state.message = "Abbruch angefordert – die aktuelle Datei wird noch fertig verarbeitet …"
            return True

    def wait(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _progress(self, progress: Progress) -> None:
        with self._lock:
            s = self._state
            s.files_total, s.files_done = progress.files_total, progress.files_done
            s.chunks_done, s.current = progress.chunks_done, progress.current
            s.progress = replace(progress)
            s.updated = time.time()
            s.eta_then = progress.eta_seconds(s.updated)

    def _run(self, collection: str, folders: list[Path], full: bool, cancel: threading.Event) -> None:
        report: IngestReport | None = None
        error = ""
        try:
            if self._ingest is None:
                self._ingest = IngestService(self.settings, store=self.service.store)
            report = self._ingest.ingest(
                folders, collection, full=full, progress=self._progress, cancel=cancel
            )
        except (FileNotFoundError, EmbeddingMismatch, EmbeddingServiceError) as exc:  # German, for the admin
            log.warning("re-index of %s failed: %s", collection, exc)
            error = str(exc)
        except Exception:
            log.exception("re-index of %s failed", collection)
            error = (
                "Die Indexierung ist mit einem Fehler abgebrochen. Details stehen im Protokoll des Servers."
            )
        if full:
            # A full rebuild replaces the vector collection: the chat must not keep the old handle.
            self.service.forget(collection)
        with self._lock:
            s = self._state
            s.finished = time.time()
            s.current = ""
            if report is None:
                s.status, s.message = "failed", error
            else:
                s.status = "cancelled" if report.cancelled else "done"
                s.message = report.summary_de()
                s.failed = list(report.failed)


# --- HTML ---------------------------------------------------------------------------------------
STATUS_DE = {
    "running": "läuft",
    "done": "abgeschlossen",
    "cancelled": "abgebrochen",
    "failed": "fehlgeschlagen",
}


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def progress_html(state: JobState) -> str:
    if state.status == "idle":
        return '<p class="kw-progress">Zurzeit läuft keine Indexierung.</p>'
    name = escape(state.collection)
    if state.running:
        total = max(state.files_total, 1)
        eta = state.eta_seconds()
        details = [
            f"Dateien: {state.files_done} von {state.files_total}",
            f"Abschnitte indexiert: {state.chunks_done}",
        ]
        if state.progress is not None:
            p = state.progress
            details.append(
                f"Tempo: {rate_de(p.files_per_s())} Dateien/s, {rate_de(p.chunks_per_s())} Abschnitte/s"
            )
        if state.current:
            details.append(f"Aktuelle Datei: {escape(state.current)}")
        details.append(
            f"Restzeit: ca. {duration_de(eta)}" if eta is not None else "Restzeit: wird ermittelt …"
        )
        extra = f"<p>{escape(state.message)}</p>" if state.message else ""
        return (
            f'<div class="kw-progress"><p><strong>Sammlung „{name}“ wird indexiert …</strong></p>'
            f'<progress max="{total}" value="{state.files_done}" aria-label="Fortschritt der Indexierung">'
            f"{state.files_done} von {state.files_total}</progress>"
            f"<p>{' · '.join(details)}</p>{extra}</div>"
        )
    return (
        f'<div class="kw-progress"><p><strong>Indexierung {STATUS_DE[state.status]}.</strong> '
        f"{escape(state.message)}</p></div>"
    )


def job_status_text(state: JobState) -> str:
    """One line for the screen-reader status region: changes only when the job's status changes."""
    if state.status == "idle":
        return ""
    return f"Indexierung der Sammlung „{state.collection}“: {STATUS_DE[state.status]}."


def _file_list(title: str, paths: list) -> str:
    if not paths:
        return ""
    items = "".join(f"<li>{escape(str(p))}</li>" for p in paths)
    return f"<details><summary>{escape(title)} ({len(paths)})</summary><ul>{items}</ul></details>"


def last_run_html(run: dict | None, collection: str) -> str:
    name = escape(collection)
    if run is None:
        return f"<p>Für die Sammlung „{name}“ gibt es noch keinen Indexierungslauf.</p>"
    s = run["summary"]
    started = format_time(run["started_at"])
    duration = _duration((run["finished_at"] or time.time()) - run["started_at"])
    rows = [
        ("Status", STATUS_DE.get(run["status"], run["status"])),
        ("Beginn", started),
        ("Dauer", duration),
        ("Neue Dateien", len(s.get("added", []))),
        ("Geänderte Dateien", len(s.get("changed", []))),
        ("Umbenannte Dateien", len(s.get("renamed", []))),
        ("Entfernte Dateien", len(s.get("removed", []))),
        ("Unveränderte Dateien", len(s.get("skipped", []))),
        ("Fehlgeschlagene Dateien", len(s.get("failed", []))),
        ("Abschnitte indexiert", s.get("chunks_added", 0)),
        ("Abschnitte entfernt", s.get("chunks_removed", 0)),
        ("Embeddings wiederverwendet", s.get("chunks_reused", 0)),
    ]
    if s.get("error"):
        rows.insert(1, ("Grund des Abbruchs", s["error"]))
    body = "".join(f'<tr><th scope="row">{escape(k)}</th><td>{escape(str(v))}</td></tr>' for k, v in rows)
    html = [
        f'<table class="kw-table"><caption>Letzter Lauf der Sammlung „{name}“</caption><tbody>{body}</tbody></table>'
    ]
    failed = s.get("failed", [])
    if failed:
        lines = "".join(
            f"<tr><td>{escape(str(path))}</td><td>{escape(str(reason))}</td></tr>" for path, reason in failed
        )
        html.append(
            '<table class="kw-table"><caption>Fehlgeschlagene Dateien</caption>'
            '<thead><tr><th scope="col">Datei</th><th scope="col">Grund</th></tr></thead>'
            f"<tbody>{lines}</tbody></table>"
        )
    html.append(_file_list("Neue Dateien", s.get("added", [])))
    html.append(_file_list("Geänderte Dateien", s.get("changed", [])))
    html.append(_file_list("Umbenannte Dateien", s.get("renamed", [])))
    html.append(_file_list("Entfernte Dateien", s.get("removed", [])))
    return "".join(html)
