"""Audit log of answers as JSON lines: what was asked of which collection, what was cited, which model,
how long it took, and how it ended (answered, weak: nearest passages only, refused, failed, cancelled,
denied).

No user name ever (Personalrat, data protection). Where a Dienstvereinbarung allows it,
`audit.user_pseudonyms` adds a keyed pseudonym (HMAC-SHA256 of the user name with a secret key):
entries of one user can be linked, the name cannot be read back without the key. The question text
only if the settings allow it. The file rotates by size (logging.handlers.RotatingFileHandler).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path

from kreiswissen.schema import Answer
from kreiswissen.settings import Settings

from .access import User

CITED_FIELDS = ("title", "section", "page", "path")  # of each cited source: no text, no score


class AuditLog:
    def __init__(
        self,
        path: Path,
        log_questions: bool = True,
        pseudonym_key: bytes | None = None,
        max_bytes: int = 20_000_000,
        backups: int = 10,
    ) -> None:
        self.path = path
        self.log_questions = log_questions
        self.pseudonym_key = pseudonym_key  # None: no user reference at all
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handler = RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True
        )
        self._handler.setFormatter(logging.Formatter("%(message)s"))

    @classmethod
    def for_settings(cls, settings: Settings) -> AuditLog:
        audit = settings.audit
        key = None
        if audit.user_pseudonyms:
            key = audit.pseudonym_key.encode() or _stored_key(settings.audit_path.parent / ".pseudonym-key")
        return cls(
            settings.audit_path, audit.log_questions, key, int(audit.max_mb * 1_000_000), audit.backups
        )

    def pseudonym(self, user: User | None) -> str | None:
        if self.pseudonym_key is None or user is None or user.anonymous:
            return None
        return hmac.new(self.pseudonym_key, user.name.encode(), hashlib.sha256).hexdigest()[:20]

    def record(self, answer: Answer, collection: str, user: User | None = None) -> None:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "status": {"refused": "refused", "weak": "weak"}.get(answer.outcome, "answered"),
            "collection": collection,
        } | answer.to_dict(
            "question",
            "standalone_question",
            "outcome",
            "refused",
            "cited",
            "flagged",
            "model",
            source_fields=CITED_FIELDS,
        )
        if not self.log_questions:
            entry |= {"question": None, "standalone_question": None}
        entry["latency"] = {k: round(v, 3) for k, v in answer.timings.items()}
        self._write(entry, user)

    def record_outcome(
        self, question: str, collection: str, status: str, seconds: float, user: User | None = None
    ) -> None:
        """An answer that did not come: "failed", "cancelled" (the user left or stopped it), "denied"."""
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "status": status,
            "collection": collection,
            "question": question if self.log_questions else None,
            "latency": {"total": round(seconds, 3)},
        }
        self._write(entry, user)

    def _write(self, entry: dict, user: User | None) -> None:
        if (pseudonym := self.pseudonym(user)) is not None:
            entry["user_pseudonym"] = pseudonym
        record = logging.makeLogRecord({"msg": json.dumps(entry, ensure_ascii=False), "args": None})
        self._handler.handle(record)  # takes the handler's lock, rotates when the file is full


def _stored_key(path: Path) -> bytes:
    """A random key kept beside the log (readable by the service account only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()
