"""`kreiswissen serve`."""

from __future__ import annotations

from typing import Annotated

import typer

from kreiswissen.settings import get_settings


def serve_command(
    host: Annotated[str | None, typer.Option(help="Adresse (Standard aus den Einstellungen)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (Standard aus den Einstellungen)")] = None,
) -> None:
    """Die Weboberfläche starten."""
    import threading

    import uvicorn

    from rag.answer_service import AnswerService

    from .server import create_server

    settings = get_settings()
    # The address decides whether anonymous use is allowed by default (only on loopback).
    ui = settings.ui.model_copy(update={"host": host or settings.ui.host, "port": port or settings.ui.port})
    settings = settings.model_copy(update={"ui": ui})
    service = AnswerService(settings)
    # Load the model and evaluate the fixed prompt while the page is already served: the first
    # question does not pay for it, and the extract works from the first second on.
    threading.Thread(target=service.warm, name="warm-generator", daemon=True).start()
    app = create_server(settings, service)
    host = host or settings.ui.host
    port = port or settings.ui.port
    typer.echo(f"Kreiswissen läuft auf http://{host}:{port}")
    # proxy_headers off: the app sees the real peer address and trusts X-Forwarded-* only from
    # `access.trusted_proxies` itself (ui/sign_in.py).
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)
