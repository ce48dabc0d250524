"""`kreiswissen eval`: run a question set, write results.jsonl + report.md/html, gate on metrics."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kreiswissen.settings import get_settings

from .metrics import compute_metrics, failed_thresholds, parse_thresholds
from .report import HEADLINE, deltas, fmt, write_reports

console = Console()


def eval_command(
    questions: Annotated[
        Path,
        typer.Argument(help="Fragen als JSON Lines (question, doc, section, answerable, answer, key_facts)"),
    ],
    corpus: Annotated[Path, typer.Option("--corpus", help="Ordner mit den Dokumenten")],
    index: Annotated[
        Path | None, typer.Option("--index", help="Index-Ordner (Standard: zwischengespeichert)")
    ] = None,
    retrieval_only: Annotated[
        bool, typer.Option("--retrieval-only", help="Nur Suche, keine Antworten")
    ] = False,
    out: Annotated[Path, typer.Option("--out", help="Ausgabeordner")] = Path("eval/out"),
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="results.jsonl eines früheren Laufs")
    ] = None,
    fail_under: Annotated[
        list[str] | None, typer.Option("--fail-under", help="z. B. hit@5=0.9 (mehrfach)")
    ] = None,
    overrides: Annotated[
        list[str] | None, typer.Option("--set", help="Einstellung, z. B. retrieval.top_k=8")
    ] = None,
    title: Annotated[str, typer.Option(help="Titel des Berichts")] = "Kreiswissen – Evaluation",
    as_user: Annotated[
        str | None, typer.Option("--as-user", help="Als dieses lokale Konto (nur dessen Sammlungen)")
    ] = None,
    as_group: Annotated[
        list[str] | None, typer.Option("--as-group", help="Als Mitglied dieser Gruppe (mehrfach)")
    ] = None,
    ablation: Annotated[
        bool,
        typer.Option("--ablation", help="Suche je Konfiguration vergleichen (dense, bm25, hybrid, +rerank)"),
    ] = False,
) -> None:
    """Frage-Set auswerten: Such- und Antwortqualität, Bericht, Schwellenwerte."""
    from .runner import apply_overrides, load_questions, prepare_index, run_questions

    thresholds = parse_thresholds(fail_under or [])
    settings = apply_overrides(get_settings(), overrides or [])
    rows_in = load_questions(questions)
    started = time.time()
    from rag.accounts import cli_user

    user = cli_user(settings, as_user, as_group)  # accounts of this installation, not of the eval index
    with console.status("Indexiere Korpus (nur neue oder geänderte Dateien) …"):
        settings, ingest = prepare_index(settings, corpus, index)
    console.print(f"Index: {ingest.summary_de()}")
    allowed = None
    if user is not None:
        from rag.access import readable_collections
        from store.catalog import Catalog

        allowed = readable_collections(Catalog(settings.index_dir / "catalog.sqlite"), user)
        if settings.collection not in allowed:
            console.print(
                f"[red]Fehler:[/red] Dieser Benutzer darf die Sammlung „{settings.collection}“ nicht lesen."
            )
            raise typer.Exit(2)
    if ablation:
        from .ablation import COLUMNS, run_ablation

        with console.status("Vergleiche Suchkonfigurationen …"):
            results = run_ablation(settings, rows_in, out)
        table = Table("Konfiguration", *COLUMNS, title="Ablation der Suche")
        for name, m in results.items():
            table.add_row(name, *(fmt(m[c]) for c in COLUMNS))
        console.print(table)
        console.print(f"Tabelle: {out / 'ablation.md'}")
        return
    with Progress(
        TextColumn("Fragen"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as bar:
        task = bar.add_task("eval", total=len(rows_in))
        rows = run_questions(
            settings, rows_in, retrieval_only, on_done=lambda _: bar.advance(task), allowed=allowed
        )
    metrics = compute_metrics(rows)
    base_metrics = compute_metrics(_read_jsonl(baseline)) if baseline else None

    out.mkdir(parents=True, exist_ok=True)
    with (out / "results.jsonl").open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    md, html = write_reports(out, rows, metrics, title, base_metrics)

    table = Table("Kennzahl", "Wert", *(["Basis", "Δ"] if base_metrics else []), title=title)
    compared = {k: (b, d) for k, b, _, d in deltas(metrics, base_metrics)} if base_metrics else {}
    for key in HEADLINE:
        if key in metrics:
            extra = [fmt(compared[key][0]), f"{compared[key][1]:+.3f}"] if key in compared else []
            table.add_row(key, fmt(metrics[key]), *extra)
    console.print(table)
    console.print(f"{len(rows)} Fragen in {time.time() - started:.1f} s. Bericht: {md}, {html}")
    if failures := failed_thresholds(metrics, thresholds):
        for failure in failures:
            console.print(f"[red]Schwellenwert verfehlt:[/red] {failure}")
        raise typer.Exit(1)


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
