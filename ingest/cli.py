"""`kreiswissen ingest` and `kreiswissen collections`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from kreiswissen.settings import get_settings

console = Console()


def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="Ordner oder Dateien, die indexiert werden")],
    collection: Annotated[str | None, typer.Option("--collection", "-c", help="Name der Sammlung")] = None,
    full: Annotated[bool, typer.Option("--full", help="Sammlung komplett neu aufbauen")] = False,
) -> None:
    """Dokumente indexieren (inkrementell: nur neue und geänderte Dateien)."""
    from embedding.client import EmbeddingServiceError
    from store.catalog import EmbeddingMismatch

    from .progress import Progress as IngestProgress
    from .progress import duration_de, rate_de
    from .service import IngestService

    settings = get_settings()
    service = IngestService(settings)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[chunks]} Abschnitte · {task.fields[rates]} · Restzeit {task.fields[eta]}"),
        TextColumn("{task.fields[current]}"),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("Indexiere", total=None, chunks=0, current="", rates="", eta="…")

        def on_progress(p: IngestProgress) -> None:
            eta = p.eta_seconds()
            bar.update(
                task,
                total=p.files_total,
                completed=p.files_done,
                chunks=p.chunks_done,
                current=p.current,
                rates=f"{rate_de(p.files_per_s())} Dateien/s, {rate_de(p.chunks_per_s())} Abschnitte/s",
                eta=f"ca. {duration_de(eta)}" if eta is not None else "wird ermittelt",
            )

        try:
            report = service.ingest(paths, collection=collection, full=full, progress=on_progress)
        except (FileNotFoundError, EmbeddingMismatch, EmbeddingServiceError) as exc:
            console.print(f"[red]Fehler:[/red] {exc}")
            raise typer.Exit(2) from exc
    console.print(report.summary_de())
    for path, reason in report.failed:
        console.print(f"  [yellow]übersprungen:[/yellow] {path}: {reason}")
    if report.failed:
        raise typer.Exit(1)


collections_app = typer.Typer(
    help="Sammlungen auflisten (ohne Unterbefehl) und festlegen, wer sie lesen darf.",
    invoke_without_command=True,
)


@collections_app.callback()
def collections_command(ctx: typer.Context) -> None:
    """Sammlungen mit Dokument- und Abschnittszahl, letzter Indexierung, Ordnern und Lesegruppen."""
    if ctx.invoked_subcommand is not None:
        return
    from datetime import datetime

    from store.catalog import Catalog

    settings = get_settings()
    catalog = Catalog(settings.index_dir / "catalog.sqlite")
    table = Table("Sammlung", "Dokumente", "Abschnitte", "Zuletzt indexiert", "Ordner", "Lesen dürfen")
    for c in catalog.collections():
        when = datetime.fromtimestamp(c["indexed_at"]).strftime("%d.%m.%Y %H:%M") if c["indexed_at"] else "–"
        readers = "alle" if "*" in c["groups"] else ", ".join(c["groups"]) or "niemand"
        table.add_row(
            c["name"], str(c["documents"]), str(c["chunks"]), when, "\n".join(c["folders"]), readers
        )
    console.print(table)


@collections_app.command("groups")
def groups_command(
    name: Annotated[str, typer.Argument(help="Name der Sammlung")],
    groups: Annotated[list[str] | None, typer.Argument(help="Gruppen, die lesen dürfen; * = alle")] = None,
    nobody: Annotated[bool, typer.Option("--niemand", help="Niemand darf die Sammlung lesen")] = False,
) -> None:
    """Festlegen, welche Gruppen eine Sammlung lesen dürfen (ersetzt die bisherigen)."""
    from store.catalog import Catalog

    catalog = Catalog(get_settings().index_dir / "catalog.sqlite")
    wanted = sorted({g.strip() for g in groups or [] if g.strip()})
    if not wanted and not nobody:
        found = catalog.collection(name)
        if found is None:
            console.print(f"[red]Fehler:[/red] Eine Sammlung „{name}“ gibt es nicht.")
            raise typer.Exit(2)
        console.print(f"„{name}“ lesen: {', '.join(found['groups']) or 'niemand'}")
        return
    wanted = ["*"] if "*" in wanted else wanted
    if not catalog.set_groups(name, wanted):
        console.print(f"[red]Fehler:[/red] Eine Sammlung „{name}“ gibt es nicht.")
        raise typer.Exit(2)
    console.print(f"„{name}“ lesen jetzt: {', '.join(wanted) or 'niemand'}")
