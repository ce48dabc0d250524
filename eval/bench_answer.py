"""`kreiswissen bench answer`: what a caseworker waits for, per question and as p50/p95.

Per question: retrieval, time to the extract, prompt tokens, time to the first generated token,
decode tokens/s and the complete answer, for one or more generator backends in one run (same
machine, same index), with the CPU model and the flags that decide the speed. With two backends the
report gives their ratio.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kreiswissen.model_assets import cpu_summary
from kreiswissen.settings import Settings, get_settings

from .metrics import percentile
from .runner import apply_overrides, load_questions, prepare_index

console = Console()

# Named backends: a generator backend plus the settings that make it what the name says.
BACKENDS: dict[str, list[str]] = {
    "llamacpp": ["generator.backend=llamacpp"],  # llama.cpp's server in a supervised child (default)
    "llamacpp-inprocess": ["generator.backend=llamacpp-inprocess"],  # the earlier path, for comparison
    "transformers": ["generator.backend=transformers", "generator.dtype=auto"],
    "transformers-bf16": ["generator.backend=transformers", "generator.dtype=bfloat16"],
    "transformers-fp32": ["generator.backend=transformers", "generator.dtype=float32"],
    "openai": ["generator.backend=openai"],
}
FIGURES = ("retrieval", "extract", "prompt_tokens", "first_token", "tokens_per_s", "total")


def measure(settings: Settings, questions: list[dict]) -> tuple[list[dict], float]:
    """Run every question through the real answer pipeline; returns rows and the warm-up seconds."""
    from rag.answer_service import AnswerService

    service = AnswerService(settings)
    started = time.perf_counter()
    service.warm()
    warm_s = time.perf_counter() - started
    rows = []
    for q in questions:
        answer = service.answer(q["question"])
        t = answer.timings
        decode_s = t.get("generation", 0.0) - (t.get("first_token", 0.0) - t.get("extract", 0.0))
        tokens = t.get("generated_tokens", 0.0)
        rows.append(
            {
                "id": q.get("id"),
                "question": q["question"],
                "refused": answer.refused,
                "verified": answer.verified,
                "retrieval": t.get("retrieval"),
                "extract": t.get("extract"),
                "prompt_tokens": t.get("prompt_tokens"),
                "first_token": t.get("first_token"),
                "tokens_per_s": tokens / decode_s if tokens and decode_s > 0 else None,
                "total": t.get("total"),
                "model": answer.model,
            }
        )
        console.print(
            f"  {q.get('id', '')}: Fundstelle {_s(t.get('extract'))}, erstes Token {_s(t.get('first_token'))}, "
            f"gesamt {_s(t.get('total'))}{' (abgelehnt)' if answer.refused else ''}",
            highlight=False,
        )
    return rows, warm_s


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} s"


def summarise(rows: list[dict]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for figure in FIGURES:
        values = [r[figure] for r in rows if r.get(figure) is not None]
        out[figure] = {"p50": percentile(values, 50), "p95": percentile(values, 95), "n": len(values)}
    return out


def answer_command(
    questions: Annotated[Path, typer.Argument(help="Fragen als JSONL (Feld 'question')")],
    corpus: Annotated[Path, typer.Option(help="Ordner mit den Dokumenten")],
    backend: Annotated[
        list[str] | None,
        typer.Option(help=f"Generator, mehrfach für einen Vergleich: {', '.join(BACKENDS)}"),
    ] = None,
    limit: Annotated[int, typer.Option(help="Nur die ersten N Fragen (0 = alle)")] = 0,
    answerable_only: Annotated[bool, typer.Option(help="Nur beantwortbare Fragen")] = False,
    setting: Annotated[list[str] | None, typer.Option("--set", help="Einstellung KEY=VALUE")] = None,
    out: Annotated[Path | None, typer.Option(help="Ergebnisse als JSON hierhin schreiben")] = None,
) -> None:
    """Antwortzeiten messen: Suche, Fundstelle, erstes Token, Tokens/s, gesamt (p50/p95)."""
    backends = backend or ["llamacpp"]
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown:
        raise typer.BadParameter(f"Unbekannter Generator: {', '.join(unknown)}")
    rows_in = load_questions(questions)
    if answerable_only:
        rows_in = [q for q in rows_in if q.get("answerable", True)]
    if limit:
        rows_in = rows_in[:limit]
    base = apply_overrides(get_settings(), setting or [])
    console.print(f"CPU: {cpu_summary()}", highlight=False)
    console.print(f"Index für {corpus} wird geprüft …")
    base, _ = prepare_index(base, corpus, None)
    results: dict[str, dict] = {}
    for name in backends:
        console.print(f"\n[bold]{name}[/bold]: {len(rows_in)} Fragen")
        settings = apply_overrides(base, BACKENDS[name])
        rows, warm_s = measure(settings, rows_in)
        results[name] = {"warm_s": warm_s, "summary": summarise(rows), "rows": rows}

    table = Table(title="Antwortzeiten (p50 / p95)")
    table.add_column("Generator")
    for figure in ("Suche s", "Fundstelle s", "Prompt-Tokens", "erstes Token s", "Tokens/s", "gesamt s"):
        table.add_column(figure, justify="right")
    for name, result in results.items():
        summary = result["summary"]
        table.add_row(name, *(f"{summary[f]['p50']:.2f} / {summary[f]['p95']:.2f}" for f in FIGURES))
    console.print(table)
    if len(results) >= 2:
        first, *others = results
        for other in others:
            for figure in ("first_token", "total"):
                a, b = results[first]["summary"][figure]["p50"], results[other]["summary"][figure]["p50"]
                console.print(f"{figure} p50: {other} / {first} = {b / a:.1f}×", highlight=False)
    if out:
        out.write_text(json.dumps({"cpu": cpu_summary(), "results": results}, indent=2, ensure_ascii=False))
        console.print(f"Ergebnisse: {out}")
