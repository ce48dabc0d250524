"""`kreiswissen bench load`: N concurrent chat clients through Gradio's HTTP API against the web app.

Loopback only and bounded in time: it starts its own server on 127.0.0.1 unless --url names one on
this machine, and stops every client at the deadline.
"""

from __future__ import annotations

import json
import multiprocessing
import socket
import statistics
import threading
import time
from collections.abc import Callable
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


def _serve(settings_data: dict, port: int) -> None:
    """The server process: warmed like `kreiswissen serve` warms it (model loaded, fixed prompt
    evaluated), but before the clients come, so the figures are those of a running server."""
    import uvicorn

    from kreiswissen.settings import Settings
    from rag.answer_service import AnswerService
    from ui.server import create_server

    settings = Settings.model_validate(settings_data)
    service = AnswerService(settings)
    service.warm()
    app = create_server(settings, service)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False)  # as `serve`


def _start_server(corpus: Path, max_new_tokens: int) -> tuple[str, multiprocessing.process.BaseProcess]:
    """A server in its own process: clients in the server's process would share its interpreter lock
    and slow its searches as no browser on another machine does."""
    from .runner import prepare_index

    console.print(f"Index für {corpus} wird geprüft …")
    settings, _ = prepare_index(get_settings(), corpus, None)  # the same cached index as bench answer
    settings = settings.model_copy(
        update={"generator": settings.generator.model_copy(update={"max_new_tokens": max_new_tokens})}
    )
    console.print("Sprachmodell wird geladen …")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(settings.model_dump(mode="json"), port), name="bench-load-server"
    )
    process.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(1500):
        if not process.is_alive():
            raise RuntimeError(f"server exited with code {process.exitcode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return url, process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


def _ask(client: httpx.Client, question: str, on_output: Callable[[dict], None]) -> dict:
    """One question through Gradio's HTTP API (what a browser's queue call does): post it, then read
    the event stream to the end. Returns the final output; raises on an error event."""
    posted = client.post("/gradio_api/call/answer", json={"data": [question, None]})
    posted.raise_for_status()
    event = ""
    final: dict = {}
    with client.stream("GET", f"/gradio_api/call/answer/{posted.json()['event_id']}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data = json.loads(line.removeprefix("data:"))
                if event == "error":
                    raise RuntimeError(f"Server meldet einen Fehler: {data}")
                if event in ("generating", "complete") and data:
                    final = data[0]
                    on_output(final)
                if event == "complete":
                    break
    return final


def run_load(url: str, clients: int, deadline_s: float) -> dict:
    started = time.time()
    results: list[dict] = []
    lock = threading.Lock()
    # All clients connect first (API info, as a browser loads the page long before the question),
    # then ask at the same moment: the figures are those of 20 questions at once. Plain HTTP clients
    # rather than gradio_client, whose set-up work in 20 threads of this process took CPU from the
    # server on the same two cores and counted as server latency.
    ready = threading.Barrier(clients)
    timeout = httpx.Timeout(120, read=deadline_s)

    def one(i: int) -> None:
        question = QUESTIONS[i % len(QUESTIONS)]
        t0 = time.time()
        extract_s: float | None = None
        first_s: float | None = None  # the extract, or the refusal where the gate refused

        def on_output(output: dict) -> None:
            nonlocal extract_s, first_s
            first_s = time.time() - t0 if first_s is None else first_s
            if extract_s is None and output.get("stage") == "extract":
                extract_s = time.time() - t0

        with httpx.Client(base_url=url, timeout=timeout) as client:
            try:
                try:
                    client.get("/gradio_api/info").raise_for_status()
                finally:
                    ready.wait(timeout=300)  # a client that failed to connect must not hold the others back
                t0 = time.time()  # from the question, not from the client's connection set-up
                answer = _ask(client, question, on_output)
                ok = bool(answer.get("answer", "").strip())
                error = "" if ok else "leere Antwort"
            except Exception as exc:  # every failure is counted, none ends the test
                answer, ok, error = {}, False, f"{type(exc).__name__}: {exc}"
        with lock:
            results.append(
                {
                    "ok": ok,
                    "seconds": time.time() - t0,
                    "extract_s": extract_s,
                    "first_s": first_s,
                    # The server's own time to the extract: the rest of the client's figure is transport
                    "server_extract_s": (answer.get("timings") or {}).get("extract"),
                    "error": error,
                }
            )

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(one, range(clients)))
    latencies = sorted(r["seconds"] for r in results if r["ok"])
    extracts = sorted(r["extract_s"] for r in results if r["extract_s"] is not None)
    firsts = sorted(r["first_s"] for r in results if r["first_s"] is not None)
    in_server = sorted(r["server_extract_s"] for r in results if r["server_extract_s"] is not None)
    return {
        "extracts": len(extracts),  # gate refusals have none
        "extract_p50_s": statistics.median(extracts) if extracts else None,
        "extract_max_s": extracts[-1] if extracts else None,
        "first_output": len(firsts),
        "first_output_max_s": firsts[-1] if firsts else None,
        "server_extract_p50_s": statistics.median(in_server) if in_server else None,
        "server_extract_max_s": in_server[-1] if in_server else None,
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
    corpus: Annotated[Path, typer.Option(help="Ordner mit den Dokumenten der eigenen Instanz")] = PROJECT_ROOT
    / "corpus",
    deadline: Annotated[float, typer.Option(help="Höchstdauer in Sekunden")] = 1500,
    max_new_tokens: Annotated[int, typer.Option(help="Antwortlänge der eigenen Instanz")] = 96,
    out: Annotated[Path | None, typer.Option(help="Ergebnis als JSON")] = None,
) -> None:
    """Lasttest: viele gleichzeitige Fragen über die Weboberfläche (nur Loopback)."""
    if url and urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        console.print("[red]Der Lasttest läuft nur gegen Adressen dieses Rechners (127.0.0.1).[/red]")
        raise typer.Exit(2)
    server = None
    if not url:
        url, server = _start_server(corpus, max_new_tokens)
    try:
        result = run_load(url, clients, deadline)
    finally:
        if server is not None:
            server.kill()
    console.print(
        f"{result['answered']}/{result['clients']} beantwortet, Fehler: {len(result['errors'])}, "
        f"p50 {result['p50_s'] or 0:.1f} s, p95 {result['p95_s'] or 0:.1f} s, gesamt {result['wall_s']:.0f} s"
    )
    console.print(
        f"Fundstelle bei {result['extracts']} Fragen: p50 {result['extract_p50_s'] or 0:.2f} s, "
        f"höchstens {result['extract_max_s'] or 0:.2f} s (die übrigen lehnte die Relevanzprüfung ab); "
        f"davon im Server p50 {result['server_extract_p50_s'] or 0:.2f} s, "
        f"höchstens {result['server_extract_max_s'] or 0:.2f} s"
    )
    console.print(
        f"Erste Ausgabe (Fundstelle oder Ablehnung) bei {result['first_output']} von {result['clients']}: "
        f"höchstens {result['first_output_max_s'] or 0:.2f} s"
    )
    console.print(f"CPU: {cpu_summary()}", highlight=False)
    for error in result["errors"][:5]:
        console.print(f"  [yellow]{error}[/yellow]")
    if out:
        import json

        out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    if result["answered"] < clients:
        raise typer.Exit(1)
