"""`kreiswissen ask`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from kreiswissen.settings import get_settings

console = Console()


def ask_command(
    question: Annotated[str, typer.Argument(help="Die Frage, auf Deutsch")],
    collection: Annotated[str | None, typer.Option("--collection", "-c", help="Name der Sammlung")] = None,
) -> None:
    """Eine Frage beantworten: Antwort mit Quellenangaben."""
    from .answer_service import AnswerService

    service = AnswerService(get_settings())
    answer = None
    for event in service.stream(question, collection):
        if event.kind == "token":
            sys.stdout.write(event.token)
            sys.stdout.flush()
        elif event.kind == "answer":
            answer = event.answer
    assert answer is not None
    console.print()
    console.rule("Antwort (KI-generiert – bitte anhand der Quellen prüfen)")
    console.print(answer.text, markup=False)
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
        f"\n[dim]Suche {t.get('retrieval', 0):.2f} s, erstes Token {t.get('first_token', 0):.1f} s, "
        f"gesamt {t.get('total', 0):.1f} s, Modell {answer.model or '–'}[/dim]"
    )
