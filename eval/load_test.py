"""`kreiswissen bench load`: N concurrent chat clients through gradio_client against the web app.

Loopback only and bounded in time: it starts its own server on 127.0.0.1 unless --url names one on
this machine, and stops every client at the deadline.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated
from urllib.parse import urlparse

import httpx
import typer
from rich.console import Console

from kreiswissen.model_assets import cpu_summary
from kreiswissen.settings import PROJECT_ROOT, get_settings

console = Console()

QUESTIONS = [
    "Welche Unterlagen brauche ich für die Zulassung eines Gebrauchtwagens?",
    "Bis wann muss eine Datenpanne gemeldet werden?",
    "Wie hoch ist das Tagegeld bei einer Dienstreise?",
    "Wie viele Tage darf ich mobil arbeiten?",
    "Wie hoch ist die Hundesteuer für einen zweiten Hund?",
]


def _start_server(corpus: Path, max_new_tokens: int) -> str:
    import uvicorn

    from rag.answer_service import AnswerService
    from ui.server import create_server

    from .runner import prepare_index

    console.print(f"Index für {corpus} wird geprüft …")
    settings, _ = prepare_index(get_settings(), corpus, None)  # the same cached index as bench answer
    settings = settings.model_copy(
        update={"generator": settings.generator.model_copy(update={"max_new_tokens": max_new_tokens})}
    )
    # Warmed like `kreiswissen serve` warms it (model loaded, fixed prompt evaluated), but before
    # the clients come: the figures are those of a running server, not of its first minute.
    console.print("Sprachmodell wird geladen …")
    service = AnswerService(settings)
    service.warm()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_server(settings, service), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return url
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def run_load(url: str, clients: int, deadline_s: float) -> dict:
    from gradio_client import Client

    started = time.time()
    results: list[dict] = []
    lock = threading.Lock()
    # All clients connect first (page and API info, as a browser does long before the question), then
    # ask at the same moment: the figures are those of 20 questions at once, not of 20 page loads.
    ready = threading.Barrier(clients)

    def one(i: int) -> None:
        question = QUESTIONS[i % len(QUESTIONS)]
        t0 = time.time()
        extract_s = None
        try:
            # 20 clients on a busy 2-core server: the set-up may wait longer than httpx's default 5 s
            try:
                client = Client(url, verbose=False, httpx_kwargs={"timeout": 120})
            finally:
                ready.wait(timeout=300)  # a client that failed to connect must not hold the others back
            t0 = time.time()  # from the question, not from the client's connection set-up
            job = client.submit(question, api_name="/answer")
            # Polled, not iterated: gradio_client's iterator waits forever for a job that failed.
            answer: dict = {}
            while True:
                for output in job.outputs():  # the extract first, then the checked answer
                    if extract_s is None and output.get("stage") == "extract":
                        extract_s = time.time() - t0
                    answer = output
                if job.done():
                    break
                if time.time() - started > deadline_s:
                    job.cancel()
                    raise TimeoutError("Frist des Lasttests überschritten")
                time.sleep(0.05)
            answer = job.result(timeout=5) or answer  # raises what the job failed with
            ok = bool(answer.get("answer", "").strip())
            error = "" if ok else "leere Antwort"
        except Exception as exc:  # every failure is counted, none ends the test
            ok, error = False, f"{type(exc).__name__}: {exc}"
        with lock:
            results.append({"ok": ok, "seconds": time.time() - t0, "extract_s": extract_s, "error": error})

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(one, range(clients)))
    latencies = sorted(r["seconds"] for r in results if r["ok"])
    extracts = sorted(r["extract_s"] for r in results if r["extract_s"] is not None)
    return {
        "extracts": len(extracts),  # gate refusals have none
        "extract_p50_s": statistics.median(extracts) if extracts else None,
        "extract_max_s": extracts[-1] if extracts else None,
        "clients": clients,
        "answered": sum(r["ok"] for r in results),
        "errors": [r["error"] for r in results if not r["ok"]],
        "p50_s": statistics.median(latencies) if latencies else None,
        "p95_s": latencies[max(0, round(0.95 * len(latencies)) - 1)] if latencies else None,
        "wall_s": time.time() - started,
    }


def load_command(
    clients: Annotated[int, typer.Option(help="Gleichzeitige Nutzer")] = 20,
    url: Annotated[
        str | None, typer.Option(help="Laufende Instanz auf diesem Rechner (Standard: eigene)")
    ] = None,
    corpus: Annotated[
        Path, typer.Option(help="Ordner mit den Dokumenten der eigenen Instanz")
    ] = PROJECT_ROOT / "corpus",
    deadline: Annotated[float, typer.Option(help="Höchstdauer in Sekunden")] = 1500,
    max_new_tokens: Annotated[int, typer.Option(help="Antwortlänge der eigenen Instanz")] = 96,
    out: Annotated[Path | None, typer.Option(help="Ergebnis als JSON")] = None,
) -> None:
    """Lasttest: viele gleichzeitige Fragen über die Weboberfläche (nur Loopback)."""
    if url and urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        console.print("[red]Der Lasttest läuft nur gegen Adressen dieses Rechners (127.0.0.1).[/red]")
        raise typer.Exit(2)
    url = url or _start_server(corpus, max_new_tokens)
    result = run_load(url, clients, deadline)
    console.print(
        f"{result['answered']}/{result['clients']} beantwortet, Fehler: {len(result['errors'])}, "
        f"p50 {result['p50_s'] or 0:.1f} s, p95 {result['p95_s'] or 0:.1f} s, gesamt {result['wall_s']:.0f} s"
    )
    console.print(
        f"Fundstelle bei {result['extracts']} Fragen: p50 {result['extract_p50_s'] or 0:.2f} s, "
        f"höchstens {result['extract_max_s'] or 0:.2f} s (die übrigen lehnte die Relevanzprüfung ab)"
    )
    console.print(f"CPU: {cpu_summary()}", highlight=False)
    for error in result["errors"][:5]:
        console.print(f"  [yellow]{error}[/yellow]")
    if out:
        import json

        out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    if result["answered"] < clients:
        raise typer.Exit(1)
