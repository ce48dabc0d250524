"""The `kreiswissen` command: wires the subcommands that live beside what they drive."""

from __future__ import annotations

import logging
import os

import typer

from embedding.server import serve_embeddings_command
from eval.bench_answer import answer_command
from eval.bench_ingest import bench_app
from eval.bench_retrieval import bench_retrieval_command  # noqa: F401  (registers `bench retrieval`)
from eval.cli import eval_command
from eval.crossval import crossval_command
from eval.load_test import load_command
from eval.verify_cases import verify_command
from ingest.cli import collections_app, ingest_command
from kreiswissen.model_cli import models_app
from rag.accounts import users_app
from rag.cli import ask_command
from rag.doctor import doctor_command
from ui.admin_auth import admin_app
from ui.cli import serve_command
from ui.feedback import feedback_app

app = typer.Typer(
    help="Kreiswissen – KI-Wissensassistent der Kreisverwaltung (läuft vollständig lokal).",
    no_args_is_help=True,
    add_completion=False,
)
app.command("ingest")(ingest_command)
app.command("ask")(ask_command)
app.command("serve")(serve_command)
app.command("doctor")(doctor_command)
app.command("serve-embeddings")(serve_embeddings_command)
app.command("eval")(eval_command)
app.command("crossval")(crossval_command)
app.command("verify")(verify_command)
app.add_typer(models_app, name="models")
app.add_typer(bench_app, name="bench")
app.add_typer(feedback_app, name="feedback")
app.add_typer(admin_app, name="admin")
app.add_typer(collections_app, name="collections")
app.add_typer(users_app, name="users")
bench_app.command("load")(load_command)
bench_app.command("answer")(answer_command)


@app.callback()
def _main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Ausführliche Protokollausgabe"),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else getattr(logging, os.environ.get("KREISWISSEN_LOG", "WARNING")),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
