"""Feedback on answers (thumbs up/down, optional comment), stored in SQLite beside the index.

A row holds what is needed to judge an answer later — time, question, answer, cited sources,
model and the relevant settings, rating, comment — and never who gave it.
`kreiswissen feedback export --out FILE.csv` writes all rows as CSV for the evaluators.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from kreiswissen.schema import Answer
from kreiswissen.settings import Settings, get_settings
from store.sqlite_db import SQLiteDB

MIGRATIONS: list[str] = [
    # 1: one row per rated answer
    """
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        question TEXT NOT NULL,
        standalone_question TEXT,
        answer TEXT NOT NULL,
        refused INTEGER NOT NULL DEFAULT 0,
        sources TEXT NOT NULL DEFAULT '[]',
        collection TEXT NOT NULL DEFAULT '',
        model TEXT NOT NULL DEFAULT '',
        settings TEXT NOT NULL DEFAULT '{}',
        rating INTEGER,
        comment TEXT NOT NULL DEFAULT ''
    );
    """,
    # 2: how the answer ended (answer / weak / refused): weak matches say what the documents lack
    "ALTER TABLE feedback ADD COLUMN outcome TEXT NOT NULL DEFAULT 'answer'",
]

EXPORT_COLUMNS = [
    "id",
    "created_at",
    "updated_at",
    "question",
    "standalone_question",
    "answer",
    "refused",
    "outcome",
    "sources",
    "collection",
    "model",
    "settings",
    "rating",
    "comment",
]

SOURCE_FIELDS = ("number", "title", "section", "page")  # of each cited source in a feedback row
MAX_COMMENT = 2000  # characters; a comment is a remark, not a document


@dataclass
class AnswerRecord:
    """What the UI keeps of an answer so that feedback on it can be stored."""

    question: str
    answer: str
    standalone_question: str | None = None
    refused: bool = False
    outcome: str = "answer"  # answer / weak / refused (Answer.outcome)
    sources: list[dict] = field(default_factory=list)  # cited sources: number, title, section, page
    collection: str = ""
    model: str = ""
    settings: dict = field(default_factory=dict)

    @classmethod
    def from_answer(cls, answer: Answer, collection: str, settings: Settings) -> AnswerRecord:
        shown = answer.to_dict(
            "question", "answer", "standalone_question", "cited", source_fields=SOURCE_FIELDS
        )
        # With audit.log_questions = false neither the question nor the answer (which echoes it) is kept.
        keep = settings.audit.log_questions
        return cls(
            question=shown["question"] if keep else "",
            answer=shown["answer"] if keep else "",
            standalone_question=shown["standalone_question"] if keep else None,
            refused=answer.refused,
            outcome=answer.outcome,
            sources=shown["cited"] if not answer.refused else [],
            collection=collection,
            model=answer.model,
            settings=relevant_settings(settings),
        )


def relevant_settings(settings: Settings) -> dict:
    """The settings that shape an answer (no paths to user data, no secrets)."""
    from embedding.backends import embedding_name

    g, r = settings.generator, settings.retrieval
    return {
        "embedding": embedding_name(settings.embedding),
        "generator_backend": g.backend,
        "generator_model": str(g.model_path)
        if g.model_path
        else (g.api_model if g.backend == "openai" else ""),
        "max_new_tokens": g.max_new_tokens,
        "temperature": g.temperature,
        "context_budget": g.context_budget,
        "retrieval_mode": r.mode,
        "rerank": r.rerank,
        "top_k": r.top_k,
        "gate_min_dense": r.gate_min_dense,
        "gate_min_coverage": r.gate_min_coverage,
        "gate_weak_dense": r.gate_weak_dense,
        "gate_weak_coverage": r.gate_weak_coverage,
    }


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._sqlite = SQLiteDB(path, MIGRATIONS)

    @classmethod
    def for_settings(cls, settings: Settings) -> FeedbackStore:
        return cls(settings.data_dir / "feedback.sqlite")

    @property
    def db(self) -> sqlite3.Connection:
        return self._sqlite.conn

    def save(
        self, record: AnswerRecord, rating: int | None, comment: str = "", feedback_id: int | None = None
    ) -> int:
        """Store feedback on an answer; with `feedback_id`, update that row (a changed mind)."""
        if rating not in (1, -1, None):
            raise ValueError("rating must be 1, -1 or None")
        comment = (comment or "").strip()[:MAX_COMMENT]
        now = time.time()
        if feedback_id is not None:
            cur = self.db.execute(
                "UPDATE feedback SET rating=?, comment=?, updated_at=? WHERE id=?",
                (rating, comment, now, feedback_id),
            )
            if cur.rowcount:
                return feedback_id
        cur = self.db.execute(
            """INSERT INTO feedback (created_at, updated_at, question, standalone_question, answer, refused,
                                     outcome, sources, collection, model, settings, rating, comment)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            (
                now,
                now,
                record.question,
                record.standalone_question,
                record.answer,
                int(record.refused),
                record.outcome,
                json.dumps(record.sources, ensure_ascii=False),
                record.collection,
                record.model,
                json.dumps(record.settings, ensure_ascii=False, sort_keys=True),
                rating,
                comment,
            ),
        )
        return int(cur.lastrowid or 0)

    def rows(self) -> list[dict]:
        return [dict(r) for r in self.db.execute("SELECT * FROM feedback ORDER BY id")]

    def export_csv(self, out: Path) -> int:
        rows = self.rows()
        out.parent.mkdir(parents=True, exist_ok=True)
        # utf-8-sig: Excel on German Windows opens it with umlauts intact.
        with out.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=EXPORT_COLUMNS, delimiter=";")
            writer.writeheader()
            for row in rows:
                for key in ("created_at", "updated_at"):
                    row[key] = datetime.fromtimestamp(row[key]).isoformat(timespec="seconds")
                writer.writerow({k: row[k] for k in EXPORT_COLUMNS})
        return len(rows)


feedback_app = typer.Typer(
    help="Rückmeldungen zu Antworten (Daumen hoch/runter, Kommentare).", no_args_is_help=True
)


@feedback_app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="Ziel-Datei (CSV, Trennzeichen Semikolon)")],
) -> None:
    """Alle Rückmeldungen als CSV-Datei exportieren."""
    store = FeedbackStore.for_settings(get_settings())
    count = store.export_csv(out)
    typer.echo(f"{count} Rückmeldungen nach {out} exportiert.")
