"""Audit log of answers as JSON lines: what was asked of which collection, what was cited, which model,
how long it took. Never a user name; question text only if the settings allow it (Personalrat,
data protection)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from kreiswissen.schema import Answer


class AuditLog:
    def __init__(self, path: Path, log_questions: bool = True) -> None:
        self.path = path
        self.log_questions = log_questions
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, answer: Answer, collection: str) -> None:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "collection": collection,
            "question": answer.question if self.log_questions else None,
            "standalone_question": answer.standalone_question if self.log_questions else None,
            "refused": answer.refused,
            "cited": [
                {
                    "title": s.chunk.title,
                    "section": s.chunk.section,
                    "page": s.chunk.page,
                    "path": s.chunk.source_path,
                }
                for s in answer.cited_sources
            ],
            "flagged": answer.flagged,
            "model": answer.model,
            "latency": {k: round(v, 3) for k, v in answer.timings.items()},
        }
        line = json.dumps(entry, ensure_ascii=False)
        with self._lock, self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
