"""Who may see what, tested against the real server on loopback: local sign-in, the SSO proxy header,
the lockout, and that a user of group A never gets a passage, title or file of collection B — not
through the HTTP routes, not through the Gradio queue with any fn_index, not with "Alle Sammlungen",
not with a guessed chunk id.

The generator is an OpenAI-compatible server address where nothing listens: a question that would be
generated fails fast, after retrieval (sources are what could leak), so no model runs here.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from ingest.service import IngestService
from kreiswissen.settings import AccessSettings, AdminSettings, GeneratorSettings
from rag.accounts import AccountStore
from rag.answer_service import ALL_COLLECTIONS, AnswerService
from tests.conftest import make_settings, serve
from ui.admin_auth import hash_password
from ui.server import create_server
from ui.sign_in import SignIn

PASSWORDS = {"anna": "Bauamt-Passwort-2026", "paul": "Personal-Passwort-2026"}
SECRETS = ["777 Euro", "Geheime Zulagenrichtlinie", "zulagen-geheim", "Personalsachen"]
SECRET_QUESTION = "Wie hoch ist die Leistungszulage im Monat?"  # asks for B, names nothing of it
DEAD_LLM = GeneratorSettings(backend="openai", api_base="http://127.0.0.1:9/v1")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("access")
    bau, personal = root / "bau", root / "personal"
    bau.mkdir()
    personal.mkdir()
    (bau / "bauantrag.md").write_text(
        "# Bauantrag\n\n## 1 Frist\n\nDer Bauantrag wird binnen drei Monaten beschieden.\n\n"
        "## 2 Zulage\n\nFür Bauanträge gibt es keine Zulage und keine Leistungszulage.\n",
        encoding="utf-8",
    )
    (personal / "zulagen-geheim.md").write_text(
        "# Geheime Zulagenrichtlinie\n\n## 1 Leistungszulage\n\nDie Leistungszulage beträgt 777 Euro im Monat.\n",
        encoding="utf-8",
    )
    settings = make_settings(
        root / "data",
        generator=DEAD_LLM,
        admin=AdminSettings(password_hash=hash_password("Admin-Passwort-2026", iterations=1000)),
        access=AccessSettings(
            anonymous=False, proxy_user_header="X-Remote-User", trusted_proxies=["127.0.0.2"]
        ),
    )
    ingest = IngestService(settings)
    assert not ingest.ingest([bau], "Bauamt").failed
    assert not ingest.ingest([personal], "Personalsachen").failed
    catalog = ingest.store.catalog
    catalog.set_groups("Bauamt", ["bau"])
    catalog.set_groups("Personalsachen", ["personal"])
    accounts = AccountStore(settings.accounts_path, iterations=1000)
    accounts.add("anna", PASSWORDS["anna"], ["bau"])
    accounts.add("paul", PASSWORDS["paul"], ["personal"])
    service = AnswerService(settings)
    sign_in = SignIn(settings, accounts, failure_delay=0.01)
    with serve(create_server(settings, service, sign_in=sign_in)) as url:
        yield {"url": url, "settings": settings, "service": service, "catalog": catalog}


def signed_in(url: str, name: str, local_address: str | None = None) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=local_address) if local_address else None
    client = httpx.Client(base_url=url, transport=transport, timeout=60)
    response = client.post("/anmelden", data={"benutzer": name, "passwort": PASSWORDS[name]})
    assert response.status_code == 303 and client.cookies.get("kw_session"), response.text
    return client


def queue_call(
    client: httpx.Client, session: str, fn_index: int, data: list, trigger_id: int | None = None
) -> str:
    """Call one Gradio event through the queue, as a browser would; return everything it sent back."""
    join = client.post(
        "/gradio_api/queue/join",
        json={
            "data": data,
            "fn_index": fn_index,
            "trigger_id": trigger_id,
            "session_hash": session,
            "event_data": None,
        },
    )
    if join.status_code != 200:
        return join.text
    messages = []
    with client.stream("GET", f"/gradio_api/queue/data?session_hash={session}") as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                messages.append(json.loads(line[5:]))
                if messages[-1].get("msg") in ("process_completed", "close_stream", "unexpected_error"):
                    break
    return json.dumps(messages, ensure_ascii=False)


def call_every_event(client: httpx.Client, collection: str) -> dict[int, str]:
    """Every event of the page, in one browser session that first loads the page as a browser does,
    with inputs an attacker would choose: the secret words as text, the other group's collection in
    every dropdown, forged admin tokens."""
    config = client.get("/config").json()
    kinds = {c["id"]: c["type"] for c in config["components"]}
    values = {"textbox": SECRET_QUESTION, "dropdown": collection, "chatbot": [], "checkbox": True}
    session = uuid.uuid4().hex
    deps = sorted(config["dependencies"], key=lambda d: not any(t[1] == "load" for t in d["targets"]))
    outputs = {}
    for dep in deps:
        data = [values.get(kinds.get(i, ""), "gefälschtes-token") for i in dep["inputs"]]
        trigger = dep["targets"][0][0] if dep["targets"] else None
        outputs[dep["id"]] = queue_call(client, session, dep["id"], data, trigger)
    return outputs


def flat(text: str) -> str:
    """CLI output without the line breaks rich puts into long lines (and typer's box borders)."""
    return " ".join(text.replace("│", " ").split())


def leaked(text: str, sent: str = "") -> list[str]:
    """Secrets in a response, except what the caller sent itself (Gradio echoes refused values)."""
    return [s for s in SECRETS if s in text and s != sent]


def test_without_sign_in_nothing_is_served(site) -> None:
    url, catalog = site["url"], site["catalog"]
    secret_id = catalog.chunk_ids("Personalsachen")[0]
    assert httpx.get(url + "/").status_code == 303  # to the sign-in page
    for path in ("/config", f"/dokument/{secret_id}", "/gradio_api/info", "/gradio_api/queue/join"):
        assert httpx.get(url + path).status_code == 401, path
    assert httpx.post(url + "/gradio_api/queue/join", json={"fn_index": 0, "data": []}).status_code == 401
    page = httpx.get(url + "/anmelden")
    assert page.status_code == 200 and 'lang="de"' in page.text and "Benutzername" in page.text
    wrong = httpx.post(url + "/anmelden", data={"benutzer": "anna", "passwort": "falsch"})
    assert wrong.status_code == 401 and "Benutzername oder Passwort ist falsch." in wrong.text


def test_http_routes_serve_only_readable_originals(site) -> None:
    url, catalog = site["url"], site["catalog"]
    own, other = catalog.chunk_ids("Bauamt")[0], catalog.chunk_ids("Personalsachen")[0]
    anna = signed_in(url, "anna")
    assert anna.get(f"/dokument/{own}").status_code == 200
    guessed = anna.get(f"/dokument/{other}")  # a real id of the other collection: looks unknown
    assert guessed.status_code == 404 and not leaked(guessed.text)
    assert anna.get("/dokument/" + "0" * 32).status_code == 404
    paul = signed_in(url, "paul")
    allowed = paul.get(f"/dokument/{other}")
    assert allowed.status_code == 200 and "777 Euro" in allowed.text  # the check can see a leak
    config = anna.get("/config").text
    assert not leaked(config)  # no collection names, titles or passages in the page's config


def test_gradio_queue_with_any_fn_index_leaks_nothing(site) -> None:
    url = site["url"]
    anna = signed_in(url, "anna")
    for collection in ("Personalsachen", ALL_COLLECTIONS):
        for fn_index, output in call_every_event(anna, collection).items():
            found = leaked(output, sent=collection)
            assert not found, (collection, fn_index, found, output[:2000])
    # The same calls as paul show his collection: the harness does see a passage when it may.
    paul_outputs = call_every_event(signed_in(url, "paul"), "Personalsachen")
    assert any("Geheime Zulagenrichtlinie" in out for out in paul_outputs.values())


def test_answer_api_and_about_page_are_limited(site) -> None:
    from gradio_client import Client

    url = site["url"]
    anna = signed_in(url, "anna")
    client = Client(url, verbose=False, headers={"Cookie": f"kw_session={anna.cookies['kw_session']}"})
    try:
        result = json.dumps(client.predict(SECRET_QUESTION, api_name="/answer"), ensure_ascii=False)
    except Exception as exc:  # a relevant question reaches the (absent) generator: an error, no text
        result = str(exc)
    assert not leaked(result), result


def test_retrieval_all_collections_respects_allowed(site) -> None:
    service: AnswerService = site["service"]
    everything = service.retrieve(SECRET_QUESTION, ALL_COLLECTIONS)
    assert any("777" in s.chunk.text for s in everything.sources)  # unrestricted (operator) sees it
    limited = service.retrieve(SECRET_QUESTION, ALL_COLLECTIONS, allowed={"Bauamt"})
    assert limited.sources and all("777" not in s.chunk.text for s in limited.sources)
    from rag.access import NotReadable

    with pytest.raises(NotReadable):
        service.retrieve(SECRET_QUESTION, "Personalsachen", allowed={"Bauamt"})


def test_proxy_header_counts_only_from_configured_proxy(site) -> None:
    url, catalog = site["url"], site["catalog"]
    other = catalog.chunk_ids("Personalsachen")[0]
    headers = {"X-Remote-User": "paul", "X-Remote-Groups": "personal, bau"}
    for address in ("127.0.0.1", "127.0.0.3"):  # not configured: the header is ignored
        with httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address=address)) as c:
            assert c.get(f"/dokument/{other}", headers=headers).status_code == 401
            assert c.get("/config", headers=headers).status_code == 401
            forwarded = c.get("/config", headers=headers | {"X-Forwarded-For": "127.0.0.2"})
            assert forwarded.status_code == 401
    with httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address="127.0.0.2")) as proxy:
        assert proxy.get(f"/dokument/{other}", headers=headers).status_code == 200
        only_bau = proxy.get(f"/dokument/{other}", headers={"X-Remote-User": "x", "X-Remote-Groups": "bau"})
        assert only_bau.status_code == 404
        assert proxy.get("/config").status_code == 401  # the proxy itself, without a user: no one


def test_fifty_wrong_logins_do_not_lock_out_another_client(site) -> None:
    url = site["url"]
    with httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address="127.0.0.4")) as guesser:
        codes = [
            guesser.post("/anmelden", data={"benutzer": "anna", "passwort": f"rate-{i}"}).status_code
            for i in range(50)
        ]
        assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}
        locked = guesser.post("/anmelden", data={"benutzer": "anna", "passwort": PASSWORDS["anna"]})
        assert locked.status_code == 429 and "Bitte versuchen Sie es in 5 Minuten erneut" in locked.text
        assert int(locked.headers["Retry-After"]) > 200
    signed_in(url, "anna", local_address="127.0.0.5")  # anna at her own desk: not locked out


def test_users_and_collection_groups_cli(tmp_path, monkeypatch) -> None:
    from cli.main import app
    from kreiswissen.settings import get_settings
    from store.catalog import Catalog

    monkeypatch.setenv("KREISWISSEN_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        out = runner.invoke(
            app, ["users", "add", "erika", "-g", "jugendamt"], input="lang-genug-123\nlang-genug-123\n"
        )
        assert out.exit_code == 0 and "jugendamt" in out.output, out.output
        assert "erika\tjugendamt" in runner.invoke(app, ["users", "list"]).output
        short = runner.invoke(app, ["users", "add", "kurt"], input="kurz\nkurz\n")
        assert short.exit_code == 1 and "mindestens 12 Zeichen" in short.output
        store = AccountStore.for_settings(get_settings())
        assert store.check("erika", "lang-genug-123").groups == {"jugendamt"}
        assert store.check("erika", "falsch") is None and store.check("niemand", "x") is None
        catalog = Catalog(get_settings().index_dir / "catalog.sqlite")
        catalog.ensure_collection("Jugendamt", "test")
        assert catalog.collections()[0]["groups"] == ["*"]
        set_out = runner.invoke(app, ["collections", "groups", "Jugendamt", "jugendamt", "leitung"])
        assert set_out.exit_code == 0, set_out.output
        assert catalog.collections()[0]["groups"] == ["jugendamt", "leitung"]
        listing = runner.invoke(app, ["collections"])
        assert listing.exit_code == 0 and "Jugendamt" in listing.output and "leitung" in listing.output
        assert runner.invoke(app, ["collections", "groups", "Gibtsnicht", "x"]).exit_code == 2
        assert runner.invoke(app, ["users", "remove", "erika"]).exit_code == 0
        assert store.user("erika") is None
    finally:
        get_settings.cache_clear()


def test_admin_folder_allow_list(tmp_path) -> None:
    from ui.admin_tab import folder_allowed

    allowed = tmp_path / "freigegeben"
    (allowed / "unter").mkdir(parents=True)
    outside = tmp_path / "privat"
    outside.mkdir()
    (allowed / "ausweg").symlink_to(outside)
    settings = make_settings(tmp_path / "data")
    settings.ingest.admin_folders = [allowed]
    assert folder_allowed(allowed, settings) and folder_allowed(allowed / "unter", settings)
    assert not folder_allowed(outside, settings)
    assert not folder_allowed(allowed / "ausweg", settings)  # a link out of it does not count
    assert not folder_allowed(Path("/etc"), settings)


def test_ask_and_eval_as_user_apply_the_groups(site, tmp_path, monkeypatch) -> None:
    from cli.main import app
    from kreiswissen.settings import get_settings

    settings = site["settings"]
    monkeypatch.setenv("KREISWISSEN_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KREISWISSEN_CHROMA__COLLECTION_PREFIX", settings.chroma.collection_prefix)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        denied = runner.invoke(app, ["ask", SECRET_QUESTION, "-c", "Personalsachen", "--as-user", "anna"])
        assert denied.exit_code == 2 and "keinen Zugriff" in flat(denied.output), denied.output
        assert not leaked(denied.output, sent="Personalsachen")
        unknown = runner.invoke(app, ["ask", SECRET_QUESTION, "--as-user", "niemand"])
        assert unknown.exit_code != 0 and "Ein lokales Konto „niemand“ gibt es nicht" in flat(unknown.output)
        # eval as a group: its index's collection is open to everyone ('*'), so the run goes ahead
        questions = tmp_path / "fragen.jsonl"
        questions.write_text(
            json.dumps({"id": "q1", "question": SECRET_QUESTION, "doc": "zulagen-geheim", "section": None,
                        "answerable": True}) + "\n",
            encoding="utf-8",
        )  # fmt: skip
        corpus = Path(settings.data_dir).parent / "personal"
        ok = runner.invoke(
            app,
            ["eval", str(questions), "--corpus", str(corpus), "--retrieval-only", "--as-group", "bau",
             "--out", str(tmp_path / "out"), "--index", str(tmp_path / "eval-index")],
        )  # fmt: skip
        assert ok.exit_code == 0, ok.output
        from store.catalog import Catalog

        Catalog(tmp_path / "eval-index" / "index" / "catalog.sqlite").set_groups("eval", ["personal"])
        closed = runner.invoke(
            app,
            ["eval", str(questions), "--corpus", str(corpus), "--retrieval-only", "--as-group", "bau",
             "--out", str(tmp_path / "out"), "--index", str(tmp_path / "eval-index")],
        )  # fmt: skip
        assert closed.exit_code == 2 and "nicht lesen" in flat(closed.output), closed.output
    finally:
        get_settings.cache_clear()


def test_anonymous_use_only_on_loopback_unless_configured() -> None:
    from kreiswissen.settings import Settings, UISettings
    from rag.access import anonymous_allowed

    assert anonymous_allowed(Settings(ui=UISettings(host="127.0.0.1")))  # `make run`
    assert not anonymous_allowed(Settings(ui=UISettings(host="0.0.0.0")))
    assert not anonymous_allowed(Settings(ui=UISettings(host="10.0.5.20")))
    assert anonymous_allowed(Settings(ui=UISettings(host="0.0.0.0"), access=AccessSettings(anonymous=True)))
    assert not anonymous_allowed(Settings(access=AccessSettings(anonymous=False)))
