"""The web app starts and answers through gradio_client, over real HTTP on loopback."""

from __future__ import annotations

import httpx
import pytest
from gradio_client import Client

from tests.conftest import serve
from ui.server import create_server


@pytest.fixture(scope="module")
def server_url(corpus_settings, answer_service):
    with serve(create_server(corpus_settings, answer_service)) as url:
        yield url


def test_page_is_german_and_says_an_ai_answers(server_url: str) -> None:
    html = httpx.get(server_url + "/").text
    assert "Kreiswissen" in html


@pytest.mark.slow
def test_gradio_client_gets_an_answer_with_sources(server_url: str) -> None:
    client = Client(server_url, verbose=False)
    result = client.predict("Bis wann muss eine Datenpanne gemeldet werden?", api_name="/answer")
    assert result["answer"].strip()
    assert result["refused"] is False
    assert result["cited"], result
    assert all(s["title"] and s["text"] for s in result["cited"] + result["further"])


def test_original_document_is_served_for_a_cited_chunk(server_url: str, answer_service) -> None:
    source = answer_service.retrieve("Eingangsstempel Posteingang").sources[0]
    response = httpx.get(f"{server_url}/dokument/{source.chunk.id}")
    assert response.status_code == 200
    assert httpx.get(f"{server_url}/dokument/does-not-exist").status_code == 404


def test_page_is_served_as_german(server_url: str) -> None:
    html = httpx.get(server_url + "/").text
    assert 'lang="de"' in html[:100] and 'lang="en"' not in html
    assert "'de-DE'" in html  # Gradio's own texts follow the page language, not the browser's


def test_admin_tab_without_password_explains_how_to_enable_it(server_url: str) -> None:
    config = httpx.get(server_url + "/config").text
    assert "kreiswissen admin hash-password" in config
    assert "kw-admin-start" not in config  # no admin controls, no admin endpoints


def test_feedback_store_saves_updates_migrates_and_exports(tmp_path, monkeypatch) -> None:
    import csv
    import json

    from typer.testing import CliRunner

    from cli.main import app
    from kreiswissen.settings import Settings, get_settings
    from ui.feedback import AnswerRecord, FeedbackStore

    settings = Settings(data_dir=tmp_path / "data")
    store = FeedbackStore.for_settings(settings)
    record = AnswerRecord(
        question="Bis wann muss eine Datenpanne gemeldet werden?",
        answer="Innerhalb von 72 Stunden [1].",
        sources=[{"number": 1, "title": "Datenschutz-Leitfaden", "section": "5.3 Meldung", "page": 4}],
        collection="kreiswissen",
        model="qwen",
        settings={"top_k": 5},
    )
    first = store.save(record, 1, "  gut  ")
    assert store.save(record, -1, "doch falsch; „Frist“", feedback_id=first) == first
    weak = AnswerRecord(question="Was kostet ein Hofhund?", answer="„…“ [1]", outcome="weak")
    second = store.save(weak, None, "x" * 5000)
    with pytest.raises(ValueError):
        store.save(record, 5)
    reopened = FeedbackStore.for_settings(settings)  # migrations run once only
    rows = reopened.rows()
    assert [r["id"] for r in rows] == [first, second]
    assert rows[0]["rating"] == -1 and rows[0]["comment"] == "doch falsch; „Frist“"
    assert rows[1]["rating"] is None and len(rows[1]["comment"]) == 2000
    assert [r["outcome"] for r in rows] == ["answer", "weak"]  # the gap report's weak matches
    assert json.loads(rows[0]["sources"])[0]["page"] == 4

    out = tmp_path / "export" / "rueckmeldungen.csv"
    monkeypatch.setenv("KREISWISSEN_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["feedback", "export", "--out", str(out)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "2 Rückmeldungen" in result.output
    with out.open(encoding="utf-8-sig", newline="") as f:
        exported = list(csv.DictReader(f, delimiter=";"))
    assert len(exported) == 2 and exported[0]["comment"] == "doch falsch; „Frist“"
    assert exported[0]["rating"] == "-1" and exported[0]["question"] == record.question
    assert exported[0]["created_at"][:2] == "20"  # ISO time, not a float
    assert not any("user" in column for column in exported[0])


def test_admin_passwords_and_sessions() -> None:
    from kreiswissen.settings import AdminSettings, Settings
    from ui.admin_auth import AdminSessions, LockedOut, hash_password, verify_password

    encoded = hash_password("richtig-und-lang", iterations=1000)
    assert encoded.startswith("pbkdf2_sha256$1000$")
    assert verify_password("richtig-und-lang", encoded)
    assert not verify_password("falsch", encoded)
    assert not verify_password("richtig-und-lang", "kaputt")
    assert hash_password("a", iterations=1000) != hash_password("a", iterations=1000)  # salted

    disabled = AdminSessions(Settings(admin=AdminSettings()))
    assert not disabled.enabled  # no hash configured: admin tab disabled
    assert disabled.login("admin", "") is None

    settings = Settings(admin=AdminSettings(user="verwaltung", password_hash=encoded))
    sessions = AdminSessions(settings, max_failures=2, failure_delay=0)
    assert sessions.login("admin", "richtig-und-lang") is None  # wrong user
    token = sessions.login("verwaltung", "richtig-und-lang")
    assert token and sessions.valid(token) and not sessions.valid("geraten") and not sessions.valid(None)
    sessions.logout(token)
    assert not sessions.valid(token)
    assert sessions.login("verwaltung", "falsch", client="10.0.0.7") is None
    assert sessions.login("verwaltung", "auch falsch", client="10.0.0.7") is None
    with pytest.raises(LockedOut) as locked:  # two failures of this client within five minutes
        sessions.login("verwaltung", "richtig-und-lang", client="10.0.0.7")
    assert 290 < locked.value.seconds <= 300 and "in 5 Minuten erneut" in locked.value.message_de
    assert sessions.login("verwaltung", "richtig-und-lang", client="10.0.0.8")  # another client is not

    expiring = AdminSessions(settings, ttl=-1)
    assert not expiring.valid(expiring.login("verwaltung", "richtig-und-lang"))


def test_admin_hash_password_cli() -> None:
    from typer.testing import CliRunner

    from cli.main import app
    from ui.admin_auth import verify_password

    result = CliRunner().invoke(
        app, ["admin", "hash-password"], input="ein-gutes-passwort\nein-gutes-passwort\n"
    )
    assert result.exit_code == 0, result.output
    encoded = result.output.strip().splitlines()[-1]
    assert verify_password("ein-gutes-passwort", encoded)
    short = CliRunner().invoke(app, ["admin", "hash-password"], input="kurz\nkurz\n")
    assert short.exit_code == 1 and "mindestens 12 Zeichen" in short.output
