"""`kreiswissen models …`: prepare and show the bundled models."""

from __future__ import annotations

import typer
from rich.console import Console

from kreiswissen.settings import get_settings

models_app = typer.Typer(help="Mitgelieferte Modelle vorbereiten und anzeigen.", no_args_is_help=True)
console = Console()


@models_app.command("prepare")
def prepare_command() -> None:
    """Das mitgelieferte Sprachmodell einmalig aus den Paketen zusammensetzen und umwandeln."""
    from .model_assets import prepare_generator

    settings = get_settings()
    if settings.generator.backend == "transformers" and settings.generator.model_path is None:
        console.print(f"Sprachmodell bereit: {prepare_generator(settings.models_dir)}")
    else:
        console.print("Kein mitgeliefertes Sprachmodell eingestellt: nichts vorzubereiten.")
