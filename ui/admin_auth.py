"""Login for the admin tab: PBKDF2 password hashes, server-side session tokens, and
`kreiswissen admin hash-password` to make a hash for the settings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time

import typer

from kreiswissen.settings import Settings

# --- passwords ---------------------------------------------------------------------------------
HASH_SCHEME = "pbkdf2_sha256"
HASH_ITERATIONS = 600_000  # OWASP recommendation for PBKDF2-HMAC-SHA256


def hash_password(password: str, iterations: int = HASH_ITERATIONS, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    b64 = base64.b64encode
    return f"{HASH_SCHEME}${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, iterations, salt, digest = encoded.split("$")
        if scheme != HASH_SCHEME:
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


# --- sessions ----------------------------------------------------------------------------------
class AdminSessions:
    """Logins and their random session tokens, held in this server process only."""

    def __init__(self, settings: Settings, ttl: float = 8 * 3600, max_failures: int = 10) -> None:
        self.user = settings.admin.user
        self.password_hash = settings.admin.password_hash
        self.ttl = ttl
        self.max_failures = max_failures
        self._tokens: dict[str, float] = {}  # token -> expiry
        self._failures: list[float] = []
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self.password_hash)

    def login(self, user: str, password: str) -> str | None:
        """A new session token, or None; raises LockedOut after too many failed attempts."""
        if not self.enabled:
            return None
        now = time.time()
        with self._lock:
            self._failures = [t for t in self._failures if now - t < 300]
            if len(self._failures) >= self.max_failures:
                raise LockedOut
        user_ok = hmac.compare_digest((user or "").strip().encode(), self.user.encode())
        password_ok = verify_password(password or "", self.password_hash)  # always run: same timing
        if not (user_ok and password_ok):
            with self._lock:
                self._failures.append(now)
            time.sleep(1.0)  # slows down guessing
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


class LockedOut(Exception):
    pass


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
