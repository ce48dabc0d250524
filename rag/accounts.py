"""Local staff accounts for counties without single sign-on: name, password hash (PBKDF2), groups.

Stored in `data_dir/accounts.sqlite` with numbered migrations; managed with
`kreiswissen users add|remove|list|groups`.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Annotated

import typer

from kreiswissen.passwords import HASH_ITERATIONS, hash_password, verify_nothing, verify_password
from kreiswissen.settings import Settings, get_settings
from store.sqlite_db import SQLiteDB

from .access import EVERYONE, User

MIGRATIONS: list[str] = [
    # 1: one row per account
    """
    CREATE TABLE accounts (
        name TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        groups TEXT NOT NULL DEFAULT '[]',
        created_at REAL NOT NULL
    );
    """,
]
MIN_PASSWORD = 12


class AccountStore:
    def __init__(self, path: Path, iterations: int = HASH_ITERATIONS) -> None:
        self.path = path
        self.iterations = iterations
        self._sqlite = SQLiteDB(path, MIGRATIONS)

    @classmethod
    def for_settings(cls, settings: Settings) -> AccountStore:
        return cls(settings.accounts_path)

    @property
    def db(self) -> sqlite3.Connection:
        return self._sqlite.conn

    def add(self, name: str, password: str, groups: list[str]) -> None:
        """Create or replace an account."""
        self.db.execute(
            "INSERT OR REPLACE INTO accounts (name, password_hash, groups, created_at) VALUES (?,?,?,?)",
            (name, hash_password(password, self.iterations), _groups_json(groups), time.time()),
        )

    def set_groups(self, name: str, groups: list[str]) -> bool:
        cur = self.db.execute("UPDATE accounts SET groups=? WHERE name=?", (_groups_json(groups), name))
        return cur.rowcount > 0

    def remove(self, name: str) -> bool:
        return self.db.execute("DELETE FROM accounts WHERE name=?", (name,)).rowcount > 0

    def user(self, name: str) -> User | None:
        """The account as a user with its current groups (group changes apply to open sessions)."""
        row = self.db.execute("SELECT groups FROM accounts WHERE name=?", (name,)).fetchone()
        return User(name, frozenset(json.loads(row["groups"])), "local") if row else None

    def check(self, name: str, password: str) -> User | None:
        """The user when name and password match; the same cost either way."""
        row = self.db.execute("SELECT password_hash FROM accounts WHERE name=?", (name,)).fetchone()
        if row is None:
            verify_nothing(password, self.iterations)
            return None
        return self.user(name) if verify_password(password, row["password_hash"]) else None

    def list(self) -> list[dict]:
        rows = self.db.execute("SELECT name, groups, created_at FROM accounts ORDER BY name").fetchall()
        return [dict(r) | {"groups": json.loads(r["groups"])} for r in rows]


def _groups_json(groups: list[str]) -> str:
    return json.dumps(sorted({g.strip() for g in groups if g.strip() and g.strip() != EVERYONE}))


# --- CLI ----------------------------------------------------------------------------------------
users_app = typer.Typer(
    help="Lokale Benutzerkonten (wenn kein Single Sign-on angebunden ist).", no_args_is_help=True
)
GroupOption = Annotated[list[str] | None, typer.Option("--group", "-g", help="Gruppe (mehrfach möglich)")]


@users_app.command("add")
def add_command(name: Annotated[str, typer.Argument(help="Benutzername")], group: GroupOption = None) -> None:
    """Konto anlegen (oder Passwort und Gruppen ersetzen); das Passwort wird abgefragt."""
    name = name.strip()
    if not name or not name.isprintable() or len(name) > 80:
        typer.echo("Der Benutzername ist leer, zu lang oder enthält unzulässige Zeichen.", err=True)
        raise typer.Exit(1)
    password = typer.prompt("Passwort", hide_input=True, confirmation_prompt="Passwort wiederholen")
    if len(password) < MIN_PASSWORD:
        typer.echo(f"Das Passwort muss mindestens {MIN_PASSWORD} Zeichen lang sein.", err=True)
        raise typer.Exit(1)
    AccountStore.for_settings(get_settings()).add(name, password, group or [])
    typer.echo(f"Konto „{name}“ gespeichert (Gruppen: {', '.join(sorted(group or [])) or 'keine'}).")


@users_app.command("groups")
def groups_command(
    name: Annotated[str, typer.Argument(help="Benutzername")], group: GroupOption = None
) -> None:
    """Die Gruppen eines Kontos ersetzen."""
    if not AccountStore.for_settings(get_settings()).set_groups(name, group or []):
        typer.echo(f"Ein Konto „{name}“ gibt es nicht.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Gruppen von „{name}“: {', '.join(sorted(group or [])) or 'keine'}.")


@users_app.command("remove")
def remove_command(name: Annotated[str, typer.Argument(help="Benutzername")]) -> None:
    """Konto löschen (offene Sitzungen enden mit der nächsten Anfrage)."""
    if not AccountStore.for_settings(get_settings()).remove(name):
        typer.echo(f"Ein Konto „{name}“ gibt es nicht.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Konto „{name}“ gelöscht.")


@users_app.command("list")
def list_command() -> None:
    """Konten mit ihren Gruppen auflisten."""
    accounts = AccountStore.for_settings(get_settings()).list()
    if not accounts:
        typer.echo("Es gibt noch keine lokalen Konten.")
    for a in accounts:
        typer.echo(f"{a['name']}\t{', '.join(a['groups']) or '–'}")


def cli_user(settings: Settings, as_user: str | None, as_groups: list[str] | None) -> User | None:
    """The user a CLI/eval run acts as: a local account (--as-user) or named groups (--as-group, for
    SSO installations); None = the operator, who reads everything."""
    if as_user:
        user = AccountStore.for_settings(settings).user(as_user)
        if user is None:
            raise typer.BadParameter(
                f"Ein lokales Konto „{as_user}“ gibt es nicht. Für Single Sign-on: --as-group GRUPPE."
            )
        return user
    if as_groups:
        return User("cli", frozenset(as_groups), "cli")
    return None
