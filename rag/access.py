"""Who may read which collection: the one place where access is decided.

Each collection lists the groups that may read it (catalog column `groups`); "*" opens it to
everyone, including anonymous use where the settings allow that. A user reads a collection when
they share at least one group with it. Every path that shows content (retrieval, "Alle
Sammlungen", the sources panel, the original documents, feedback, the CLI and eval) asks
`readable_collections` and passes the result on; nothing is decided in the browser.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from kreiswissen.settings import Settings
from store.catalog import Catalog

EVERYONE = "*"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class User:
    name: str  # "" for anonymous use
    groups: frozenset[str] = field(default_factory=frozenset)
    via: str = "anonymous"  # "anonymous" | "local" | "proxy" | "cli"

    @property
    def anonymous(self) -> bool:
        return self.via == "anonymous"


ANONYMOUS = User("")


class NotReadable(PermissionError):
    """A collection that does not exist or that the user may not read (the two look the same)."""

    def __init__(self, collection: str) -> None:
        super().__init__(f"Die Sammlung „{collection}“ gibt es nicht oder Sie haben keinen Zugriff darauf.")
        self.collection = collection


def may_read(user: User, groups: list[str]) -> bool:
    return EVERYONE in groups or (not user.anonymous and bool(user.groups & set(groups)))


def readable_collections(catalog: Catalog, user: User) -> set[str]:
    return {c["name"] for c in catalog.collections() if may_read(user, c["groups"])}


def anonymous_allowed(settings: Settings) -> bool:
    if settings.access.anonymous is not None:
        return settings.access.anonymous
    return settings.ui.host in LOOPBACK_HOSTS


def is_trusted_proxy(address: str | None, settings: Settings) -> bool:
    if not address or not settings.access.trusted_proxies:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in settings.access.trusted_proxies:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def parse_groups(value: str, separator: str = ",") -> frozenset[str]:
    return frozenset(g.strip() for g in value.split(separator) if g.strip() and g.strip() != EVERYONE)
