"""`kreiswissen ask`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from kreiswissen.settings import get_settings

console = Console()


def _primed(events):
    """Start the stream (so that a refused collection fails before any output), then go on."""
    import itertools

    first = next(events)
    return itertools.chain([first], events)


def ask_command(
    question: Annotated[str, typer.Argument(help="Die Frage, auf Deutsch")],
    collection: Annotated[str | None, typer.Option("--collection", "-c", help="Name der Sammlung")] = None,
    as_user: Annotated[
        str | None, typer.Option("--as-user", help="Als dieses lokale Konto fragen (nur dessen Sammlungen)")
    ] = None,
    as_group: Annotated[
        list[str] | None, typer.Option("--as-group", help="Als Mitglied dieser Gruppe fragen (mehrfach)")
    ] = None,
) -> None:
    """Eine Frage beantworten: Antwort mit Quellenangaben."""
    from .access import NotReadable, readable_collections
    from .accounts import cli_user
    from .answer_service import AnswerService

    settings = get_settings()
    user = cli_user(settings, as_user, as_group)
    service = AnswerService(settings)
    allowed = readable_collections(service.store.catalog, user) if user else None
    answer = None
    try:
        events = _primed(service.stream(question, collection, allowed=allowed, user=user))
    except NotReadable as exc:
        console.print(f"[red]Fehler:[/red] {exc}")
        raise typer.Exit(2) from exc
    streamed = False
    for event in events:
        if event.kind == "extract" and event.extract is not None and event.extract.evidence:
            if event.extract.weak:
                console.rule("Keine eindeutige Fundstelle – die ähnlichsten Stellen (wörtlich, ohne KI)")
                console.print(event.extract.quoted(), markup=False)
            else:
                console.rule("Fundstelle (wörtlich aus dem Dokument, ohne KI)")
                console.print(event.extract.quoted(), markup=False)
                console.rule("Antwort des Sprachmodells (KI-generiert, wird geprüft)")
        elif event.kind == "queued":
            console.print(f"[dim]Warteschlange: {event.position} Anfrage(n) vor Ihnen …[/dim]")
        elif event.kind == "token":
            streamed = True
            sys.stdout.write(event.token)
            sys.stdout.flush()
        elif event.kind == "answer":
            answer = event.answer
    assert answer is not None
    if streamed:
        console.print()
    if answer.refused:
        console.rule("Antwort")
        console.print(answer.text, markup=False)
    elif answer.verified:
        console.rule("Geprüfte Antwort (KI-generiert – jede Aussage mit der zitierten Stelle abgeglichen)")
        console.print(answer.text, markup=False)
    if answer.notice:
        console.print(f"[yellow]Hinweis:[/yellow] {answer.notice}", highlight=False)
    if answer.cited_sources:
        console.print("\n[bold]Quellen[/bold]")
        for s in answer.cited_sources:
            console.print(f"  [{s.number}] {s.label} – {s.chunk.source_path}", markup=False)
    if answer.further_sources:
        console.print("\n[bold]Weitere Fundstellen[/bold]")
        for s in answer.further_sources:
            console.print(f"  [{s.number}] {s.label} – {s.chunk.source_path}", markup=False)
    if answer.flagged:
        console.print(
            f"\n[yellow]Hinweis:[/yellow] Belege {answer.flagged} stützen ihre Aussage nicht sicher."
        )
    t = answer.timings
    console.print(
        f"\n[dim]Suche {t.get('retrieval', 0):.2f} s, Fundstelle {t.get('extract', 0):.2f} s, "
        f"erstes Token {t.get('first_token', 0):.1f} s, "
        f"gesamt {t.get('total', 0):.1f} s, Modell {answer.model or '–'}[/dim]"
    )
