"""The page "Über dieses System": models, document collections, data protection, AI transparency."""

from __future__ import annotations

from datetime import datetime
from html import escape

from embedding.backends import embedding_name
from kreiswissen.settings import Settings
from rag.answer_service import AnswerService


def generator_name(settings: Settings) -> str:
    """The generator as configured, without loading it."""
    g = settings.generator
    if g.backend == "openai":
        return f"{g.api_model} (Server im eigenen Netz: {g.api_base})"
    if g.model_path:
        return f"{g.model_path.name} (lokal: {g.model_path})"
    from kreiswissen.model_assets import GGUF_NAME

    return f"Qwen2.5-Coder-1.5B-Instruct (mitgeliefert, lokal: {settings.models_dir / GGUF_NAME})"


def format_time(timestamp: float | None) -> str:
    if not timestamp:
        return "noch nicht indexiert"
    return datetime.fromtimestamp(timestamp).strftime("%d.%m.%Y, %H:%M Uhr")


def _number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def collections_table(service: AnswerService, readable: set[str] | None = None) -> str:
    rows = [c for c in service.store.catalog.collections() if readable is None or c["name"] in readable]
    if not rows:
        return "<p>Es sind noch keine Dokumente indexiert.</p>"
    body = "".join(
        "<tr>"
        f'<th scope="row">{escape(c["name"])}</th>'
        f'<td class="kw-num-cell">{_number(c["documents"])}</td>'
        f'<td class="kw-num-cell">{_number(c["chunks"])}</td>'
        f"<td>{escape(format_time(c['indexed_at']))}</td>"
        "</tr>"
        for c in rows
    )
    return (
        '<table class="kw-table"><caption class="kw-sr">Dokumentsammlungen</caption>'
        '<thead><tr><th scope="col">Sammlung</th><th scope="col">Dokumente</th>'
        '<th scope="col">Abschnitte</th><th scope="col">Zuletzt indexiert</th></tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _user_note(settings: Settings) -> str:
    if settings.audit.enabled and settings.audit.user_pseudonyms:
        return (
            "Es werden keine Benutzernamen gespeichert; das Protokoll der Antworten enthält je Person ein "
            "Pseudonym, das sich ohne den geheimen Schlüssel nicht zurückführen lässt (gemäß Dienstvereinbarung)."
        )
    return "Es werden keine Benutzernamen gespeichert."


def about_html(settings: Settings, service: AnswerService, readable: set[str] | None = None) -> str:
    """The page; `readable` limits the collections listed to those the user may read."""
    g = settings.generator
    where = (
        "auf einem Server im Netz der Kreisverwaltung"
        if g.backend == "openai"
        else "auf diesem Rechner der Kreisverwaltung"
    )
    return f"""
<section class="kw-about" aria-labelledby="kw-about-title">
<h2 id="kw-about-title">Über dieses System</h2>
<p>Kreiswissen beantwortet Fragen zu den freigegebenen Dienstanweisungen, Handbüchern und Rechtsgrundlagen
der Kreisverwaltung. Jede Aussage soll mit einer nummerierten Quelle belegt sein, die das Originaldokument
öffnet. Finden sich in den Dokumenten keine passenden Stellen, sagt das System das, statt zu raten.</p>

<h3>Eingesetzte KI-Modelle</h3>
<dl class="kw-facts">
<dt>Sprachmodell (formuliert die Antworten)</dt><dd>{escape(generator_name(settings))}</dd>
<dt>Embedding-Modell (findet passende Textstellen)</dt><dd>{escape(embedding_name(settings.embedding))}</dd>
<dt>Suche</dt><dd>Kombination aus Stichwortsuche (BM25, deutsche Wortstämme) und semantischer Suche;
es werden bis zu {settings.retrieval.top_k} Quellen je Antwort verwendet.</dd>
</dl>

<h3>Dokumentsammlungen</h3>
{collections_table(service, readable)}

<h3>Datenschutz</h3>
<p>Alles läuft lokal {where}: Fragen, Dokumente und Antworten verlassen das Netz der Kreisverwaltung nicht,
und zur Laufzeit wird kein Modell aus dem Internet geladen. {_user_note(settings)}
Wenn Sie eine Rückmeldung (Daumen hoch/runter, Kommentar) geben, werden Frage, Antwort, die zitierten
Quellen und die Modelleinstellungen ohne Personenbezug gespeichert, um das System zu verbessern.
Geben Sie in Fragen und Kommentaren keine personenbezogenen Daten von Bürgerinnen und Bürgern ein.</p>

<h3>Transparenz nach der KI-Verordnung der EU (AI Act)</h3>
<p>Sie interagieren mit einem KI-System. Die Antworten werden von einem Sprachmodell automatisch erzeugt
und sind als solche gekennzeichnet. Sie können unvollständig oder falsch sein und ersetzen keine
fachliche Prüfung: Prüfen Sie jede Aussage anhand der angegebenen Quellen, bevor Sie sie verwenden.
Entscheidungen über Anträge oder Personen trifft immer ein Mensch.</p>
</section>
"""
