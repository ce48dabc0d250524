"""Lockout after failed logins, per client address and account, never global: a stranger guessing
passwords locks out only themselves, not the real user on another machine."""

from __future__ import annotations

import math
import threading
import time


class LockedOut(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds

    @property
    def message_de(self) -> str:
        minutes = max(1, math.ceil(self.seconds / 60))
        wait = "einer Minute" if minutes == 1 else f"{minutes} Minuten"
        return f"Zu viele Fehlversuche von diesem Rechner. Bitte versuchen Sie es in {wait} erneut."


class LoginThrottle:
    """At most `max_failures` failed logins per (client, account) within `window` seconds, and five
    times as many per client over all accounts (someone trying many names)."""

    def __init__(self, max_failures: int = 10, window: float = 300.0) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str, account: str) -> None:
        """Raise LockedOut (with the wait time) when this client may not try this account now."""
        now = time.time()
        with self._lock:
            for key, limit in (
                ((client, account.casefold()), self.max_failures),
                ((client, ""), 5 * self.max_failures),
            ):
                times = [t for t in self._failures.get(key, []) if now - t < self.window]
                self._failures[key] = times
                if len(times) >= limit:
                    raise LockedOut(times[-limit] + self.window - now)

    def failed(self, client: str, account: str) -> None:
        now = time.time()
        with self._lock:
            for key in ((client, account.casefold()), (client, "")):
                self._failures.setdefault(key, []).append(now)
            if len(self._failures) > 10_000:  # forget clients that have been quiet for a window
                self._failures = {k: v for k, v in self._failures.items() if v and now - v[-1] < self.window}

    def record(self, client: str, account: str, passed: bool, failure_delay: float) -> bool:
        """Count a login attempt's outcome and return it; a failed one waits `failure_delay` seconds
        (slows down guessing)."""
        if not passed:
            self.failed(client, account)
            time.sleep(failure_delay)
            return False
        self.succeeded(client, account)
        return True

    def succeeded(self, client: str, account: str) -> None:
        with self._lock:
            self._failures.pop((client, account.casefold()), None)
