"""The audit log: no user names by default, a keyed pseudonym only by setting, every outcome logged
(answered/refused, failed, cancelled, denied), rotation by size. Real index, real pipeline; no
generation (the questions are refused by the gate, fail, or are stopped before it)."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from ingest.service import IngestService
from kreiswissen.settings import AuditSettings
from rag.access import NotReadable, User
from rag.answer_service import AnswerService
from rag.audit_log import AuditLog
from store.index_store import chroma_name
from tests.conftest import make_settings

ERIKA = User("erika.mustermann", frozenset({"jugendamt"}), "local")
OTTO = User("otto.normal", frozenset({"jugendamt"}), "proxy")
REFUSED = "Wie hoch ist die Hundesteuer in Falkenried?"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("audit") / "docs"
    folder.mkdir()
    (folder / "jugend.md").write_text(
        "# Jugendamt\n\n## 1 Sprechzeiten\n\nDas Jugendamt ist montags von 8 bis 12 Uhr geöffnet.\n",
        encoding="utf-8",
    )
    return folder


def service_for(tmp_path, folder, **audit) -> AnswerService:
    settings = make_settings(tmp_path / "data", audit=AuditSettings(**audit))
    IngestService(settings).ingest([folder], "Jugend")
    return AnswerService(settings)


def entries(service: AnswerService) -> list[dict]:
    return [json.loads(line) for line in service.settings.audit_path.read_text(encoding="utf-8").splitlines()]


def test_no_user_reference_by_default(tmp_path, folder) -> None:
    service = service_for(tmp_path, folder)
    answer = service.answer(REFUSED, "Jugend", allowed={"Jugend"}, user=ERIKA)
    assert answer.refused
    raw = service.settings.audit_path.read_text(encoding="utf-8")
    assert "erika" not in raw.lower() and "user" not in raw
    (entry,) = entries(service)
    assert entry["status"] == "refused" and entry["collection"] == "Jugend"


def test_keyed_pseudonym_by_setting(tmp_path, folder) -> None:
    service = service_for(tmp_path, folder, user_pseudonyms=True, pseudonym_key="geheimer-schluessel")
    for user in (ERIKA, OTTO, ERIKA):
        service.answer(REFUSED, "Jugend", user=user)
    raw = service.settings.audit_path.read_text(encoding="utf-8")
    assert "erika" not in raw.lower() and "otto" not in raw.lower()
    first, second, third = (e["user_pseudonym"] for e in entries(service))
    assert first == third != second  # linkable per user, not readable
    assert first == hmac.new(b"geheimer-schluessel", ERIKA.name.encode(), hashlib.sha256).hexdigest()[:20]
    # Without a configured key a random one is kept beside the log, the same for the next start.
    keyless = service_for(tmp_path / "b", folder, user_pseudonyms=True)
    again = AuditLog.for_settings(keyless.settings)
    assert keyless.audit.pseudonym(ERIKA) == again.pseudonym(ERIKA) != first
    assert (keyless.settings.audit_path.parent / ".pseudonym-key").stat().st_mode & 0o077 == 0


def test_failed_cancelled_and_denied_answers_are_logged(tmp_path, folder) -> None:
    service = service_for(tmp_path, folder, log_questions=False)
    stream = service.stream("Wann hat das Jugendamt Sprechzeiten?", "Jugend", user=ERIKA)
    assert next(stream).kind == "sources"
    stream.close()  # the user pressed "Stopp" or left the page
    with pytest.raises(NotReadable):
        service.answer(REFUSED, "Personal", allowed={"Jugend"}, user=ERIKA)
    # The vectors vanish behind the pipeline's back (as with the old drop-first rebuild): it fails.
    store = service.store
    store.client.delete_collection(chroma_name("Jugend", service.settings.chroma.collection_prefix))
    with pytest.raises(Exception):  # noqa: B017 - whatever Chroma raises
        service.answer(REFUSED, "Jugend", user=ERIKA)
    logged = entries(service)
    assert [e["status"] for e in logged] == ["cancelled", "denied", "failed"]
    assert all(e["question"] is None for e in logged)  # log_questions = false holds for these too
    assert logged[1]["collection"] == "Personal"


def test_log_rotates_by_size(tmp_path) -> None:
    log = AuditLog(tmp_path / "logs" / "audit.jsonl", max_bytes=400, backups=2)
    for i in range(30):
        log.record_outcome(f"Frage {i}", "Jugend", "failed", 0.1)
    files = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert files == ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"]
    assert all(p.stat().st_size <= 400 for p in (tmp_path / "logs").iterdir())
    last = (tmp_path / "logs" / "audit.jsonl").read_text(encoding="utf-8").splitlines()[-1]
    assert json.loads(last)["question"] == "Frage 29"
