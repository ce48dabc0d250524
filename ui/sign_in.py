"""Staff sign-in for the chat: who is asking, decided on the server for every request.

Three ways, in this order:
1. Single sign-on: the county's reverse proxy authenticates and sets a header with the user (and one
   with the groups). The headers count only when the request comes straight from an address in
   `access.trusted_proxies`; from anyone else they are ignored.
2. Local accounts (`kreiswissen users add`): the form at /anmelden; a random session token in an
   HttpOnly cookie, kept in this server process only. Failed logins lock out per client and account.
3. Anonymous use, only where `access.anonymous` allows it (default: the UI listens on loopback).

`SignInGate` refuses every other path (the Gradio page, its API and queue, /config, originals)
without a user; the Gradio handlers look the user up again from their own request.
"""

from __future__ import annotations

import secrets
import threading
import time
from html import escape

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from kreiswissen.settings import Settings
from rag.access import ANONYMOUS, User, anonymous_allowed, is_trusted_proxy, parse_groups
from rag.accounts import AccountStore

from .login_throttle import LockedOut, LoginThrottle

SESSION_COOKIE = "kw_session"
LOGIN_PATH = "/anmelden"
LOGOUT_PATH = "/abmelden"
PUBLIC_PATHS = {LOGIN_PATH, LOGOUT_PATH, "/healthz"}
WRONG = "Benutzername oder Passwort ist falsch."


class SignIn:
    def __init__(
        self, settings: Settings, accounts: AccountStore | None = None, failure_delay: float = 1.0
    ) -> None:
        self.settings = settings
        self.accounts = accounts or AccountStore.for_settings(settings)
        access = settings.access
        self.throttle = LoginThrottle(access.max_failures, access.lockout_minutes * 60)
        self.failure_delay = failure_delay
        self.ttl = access.session_hours * 3600
        self.anonymous = anonymous_allowed(settings)
        self._sessions: dict[str, tuple[str, float]] = {}  # token -> (account, expiry)
        self._lock = threading.Lock()

    # who is asking -------------------------------------------------------------------------
    def peer(self, scope: Scope) -> str:
        return peer(scope)

    def client_address(self, scope: Scope) -> str:
        return client_address(scope, self.settings)

    def user(self, scope: Scope) -> User | None:
        """The user of a request, or None when it must sign in first."""
        access = self.settings.access
        if access.proxy_user_header and is_trusted_proxy(self.peer(scope), self.settings):
            headers = Headers(scope=scope)
            name = headers.get(access.proxy_user_header, "").strip()
            if name:
                groups = parse_groups(
                    headers.get(access.proxy_groups_header, ""), access.proxy_groups_separator
                )
                return User(name, groups, "proxy")
        token = HTTPConnection(scope).cookies.get(SESSION_COOKIE)
        if token:
            account = self._account(token)
            user = self.accounts.user(account) if account else None
            if user is not None:
                return user
        return ANONYMOUS if self.anonymous else None

    def request_user(self, request: gr.Request | None) -> User | None:
        """The user of a Gradio event, from the HTTP request that queued it (never from its data)."""
        inner = getattr(request, "request", None) if request is not None else None
        return self.user(inner.scope) if inner is not None else None

    # sessions ------------------------------------------------------------------------------
    def login(self, name: str, password: str, client: str) -> str | None:
        """A session token, or None; raises LockedOut with the wait time."""
        name = (name or "").strip()
        self.throttle.check(client, name)
        user = self.accounts.check(name, password or "") if name else None
        if not self.throttle.record(client, name, user is not None, self.failure_delay):
            return None
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[token] = (name, time.time() + self.ttl)
        return token

    def logout(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)

    def _account(self, token: str) -> str | None:
        now = time.time()
        with self._lock:
            entry = self._sessions.get(token)
            if entry is None or entry[1] <= now:
                self._sessions.pop(token, None)
                return None
            return entry[0]

    @property
    def has_accounts(self) -> bool:
        return bool(self.accounts.list())

    # HTTP ----------------------------------------------------------------------------------
    def add_routes(self, api: FastAPI) -> None:
        @api.get(LOGIN_PATH, response_class=HTMLResponse)
        def login_page() -> HTMLResponse:
            return HTMLResponse(login_html())

        @api.post(LOGIN_PATH)
        async def login_submit(request: Request) -> Response:
            form = await request.form()
            name, password = str(form.get("benutzer", "")), str(form.get("passwort", ""))
            client = self.client_address(request.scope)
            try:
                token = await _in_thread(self.login, name, password, client)
            except LockedOut as exc:
                headers = {"Retry-After": str(int(exc.seconds) + 1)}
                return HTMLResponse(login_html(exc.message_de, name), status_code=429, headers=headers)
            if token is None:
                return HTMLResponse(login_html(WRONG, name), status_code=401)
            response = RedirectResponse("/", status_code=303)
            response.set_cookie(
                SESSION_COOKIE,
                token,
                max_age=int(self.ttl),
                httponly=True,
                samesite="lax",
                secure=self._https(request),
                path="/",
            )
            return response

        @api.get(LOGOUT_PATH)
        def logout(request: Request) -> Response:
            self.logout(request.cookies.get(SESSION_COOKIE))
            response = RedirectResponse(LOGIN_PATH, status_code=303)
            response.delete_cookie(SESSION_COOKIE, path="/")
            return response

    def _https(self, request: Request) -> bool:
        if request.url.scheme == "https":
            return True
        trusted = is_trusted_proxy(self.peer(request.scope), self.settings)
        return trusted and request.headers.get("x-forwarded-proto", "") == "https"


def peer(scope: Scope) -> str:
    """The address of the direct TCP peer (uvicorn runs with proxy_headers off: see ui/cli.py)."""
    client = scope.get("client")
    return client[0] if client else ""


def client_address(scope: Scope, settings: Settings) -> str:
    """The address a lockout applies to: the peer, or behind a trusted proxy the address the proxy
    appended to X-Forwarded-For (the only entry it vouches for)."""
    address = peer(scope)
    if is_trusted_proxy(address, settings):
        forwarded = Headers(scope=scope).get("x-forwarded-for", "")
        if forwarded.strip():
            return forwarded.split(",")[-1].strip()
    return address


def request_client(request: gr.Request | None, settings: Settings) -> str:
    inner = getattr(request, "request", None) if request is not None else None
    return client_address(inner.scope, settings) if inner is not None else ""


class SignInGate:
    """ASGI middleware: without a user only the sign-in page, sign-out and /healthz are served."""

    def __init__(self, app: ASGIApp, sign_in: SignIn) -> None:
        self.app = app
        self.sign_in = sign_in

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        if self.sign_in.user(scope) is not None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        response: Response
        if scope["method"] == "GET" and scope["path"] == "/":
            response = RedirectResponse(LOGIN_PATH, status_code=303)
        else:
            response = PlainTextResponse("Bitte melden Sie sich an.", status_code=401)
        await response(scope, receive, send)


async def _in_thread(fn, *args):
    import anyio

    return await anyio.to_thread.run_sync(fn, *args)


def user_line(user: User | None, offer_login: bool) -> str:
    """The line above the chat (HTML): who is signed in, with the way out (or in)."""
    if user is None:
        return ""
    if user.anonymous:
        return f'<p>Nicht angemeldet · <a href="{LOGIN_PATH}">Anmelden</a></p>' if offer_login else ""
    groups = ", ".join(sorted(user.groups)) or "keine"
    out = f' · <a href="{LOGOUT_PATH}">Abmelden</a>' if user.via == "local" else ""
    return f"<p>Angemeldet als <strong>{escape(user.name)}</strong> (Gruppen: {escape(groups)}){out}</p>"


def login_html(message: str = "", name: str = "") -> str:
    alert = f'<p id="kw-login-message" role="alert" class="kw-alert">{escape(message)}</p>' if message else ""
    return f"""<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>Anmelden – Kreiswissen</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: sans-serif; max-width: 26rem; margin: 3rem auto; padding: 0 1rem; color: #1f1f1f; }}
label {{ display: block; margin-top: 1rem; font-weight: bold; }}
input {{ width: 100%; padding: 0.5rem; font-size: 1rem; box-sizing: border-box; border: 1px solid #6b6b6b; }}
button {{ margin-top: 1.25rem; padding: 0.6rem 1.2rem; font-size: 1rem; background: #1d4ed8; color: white;
          border: 0; border-radius: 4px; cursor: pointer; }}
:focus-visible {{ outline: 3px solid #0b4ea2; outline-offset: 2px; }}
.kw-alert {{ border-left: 4px solid #b91c1c; background: #fef2f2; padding: 0.5rem 0.75rem; }}
</style></head>
<body><main>
<h1>Kreiswissen</h1>
<p>Wissensassistent der Kreisverwaltung. Bitte melden Sie sich mit Ihrem Konto an.</p>
{alert}
<form method="post" action="{LOGIN_PATH}">
<label for="kw-login-user">Benutzername</label>
<input id="kw-login-user" name="benutzer" autocomplete="username" required value="{escape(name)}">
<label for="kw-login-password">Passwort</label>
<input id="kw-login-password" name="passwort" type="password" autocomplete="current-password" required>
<button type="submit">Anmelden</button>
</form>
</main></body></html>"""
