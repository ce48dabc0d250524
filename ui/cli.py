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
    import uvicorn

    from .server import create_server

    settings = get_settings()
    app = create_server(settings)
    host = host or settings.ui.host
    port = port or settings.ui.port
    typer.echo(f"Kreiswissen läuft auf http://{host}:{port}")
    uvicorn.run(app, host=host, port=port, log_level="warning")
