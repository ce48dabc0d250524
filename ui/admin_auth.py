"""Login for the admin tab: PBKDF2 password hashes, server-side session tokens, and
`kreiswissen admin hash-password` to make a hash for the settings."""

from __future__ import annotations

import hmac
import secrets
import threading
import time

import typer

from kreiswissen.passwords import HASH_ITERATIONS, HASH_SCHEME, hash_password, verify_password
from kreiswissen.settings import Settings

from .login_throttle import LockedOut, LoginThrottle

__all__ = ["HASH_ITERATIONS", "HASH_SCHEME", "AdminSessions", "LockedOut", "hash_password", "verify_password"]


# --- sessions ----------------------------------------------------------------------------------
class AdminSessions:
    """Logins and their random session tokens, held in this server process only."""

    def __init__(
        self,
        settings: Settings,
        ttl: float = 8 * 3600,
        max_failures: int | None = None,
        failure_delay: float = 1.0,
    ) -> None:
        self.user = settings.admin.user
        self.password_hash = settings.admin.password_hash
        self.ttl = ttl
        access = settings.access
        self.throttle = LoginThrottle(max_failures or access.max_failures, access.lockout_minutes * 60)
        self.failure_delay = failure_delay
        self._tokens: dict[str, float] = {}  # token -> expiry
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self.password_hash)

    def login(self, user: str, password: str, client: str = "") -> str | None:
        """A new session token, or None; raises LockedOut after too many failed attempts of this
        client (address) for this account."""
        if not self.enabled:
            return None
        now = time.time()
        account = (user or "").strip()
        self.throttle.check(client, account)
        user_ok = hmac.compare_digest(account.encode(), self.user.encode())
        password_ok = verify_password(password or "", self.password_hash)  # always run: same timing
        if not self.throttle.record(client, account, user_ok and password_ok, self.failure_delay):
            return None
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = now + self.ttl
        return token

    def valid(self, token: str | None) -> bool:
        if not token:
            return False
        now = time.time()
        with self._lock:
            self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
            return token in self._tokens

    def logout(self, token: str | None) -> None:
        with self._lock:
            self._tokens.pop(token or "", None)


# --- CLI ----------------------------------------------------------------------------------------
admin_app = typer.Typer(help="Verwaltung der Weboberfläche.", no_args_is_help=True)


@admin_app.command("hash-password")
def hash_password_command() -> None:
    """Einen Passwort-Hash für [admin] password_hash in kreiswissen.toml erzeugen."""
    password = typer.prompt("Neues Passwort", hide_input=True, confirmation_prompt="Passwort wiederholen")
    if len(password) < 12:
        typer.echo("Das Passwort muss mindestens 12 Zeichen lang sein.", err=True)
        raise typer.Exit(1)
    typer.echo(hash_password(password))
