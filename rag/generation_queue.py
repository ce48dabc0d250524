"""One generation at a time (the CPU is the bottleneck), in arrival order, with honest positions.

`wait_turn()` is a generator: it yields the caller's position (answers ahead of it) while it waits
and returns once the caller holds the slot; the caller must then `release()`. Closing the generator
while waiting (the user cancelled) gives up the place in the queue.

Extracts come first: while other questions are still being searched (`searching()`), the next
generation waits for them, at most `DEFER_S` — on two cores a running generation takes both, and
twenty users who arrive together would otherwise wait seconds for their quoted extract.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

DEFER_S = 2.0


class GenerationQueue:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._waiting: list[object] = []
        self._searching = 0

    @contextmanager
    def searching(self) -> Iterator[None]:
        """Marks a question between its arrival and its extract."""
        with self._cond:
            self._searching += 1
        try:
            yield
        finally:
            with self._cond:
                self._searching -= 1
                self._cond.notify_all()

    def wait_turn(self, poll_s: float = 0.5) -> Iterator[int]:
        ticket = object()
        queued = time.monotonic()
        with self._cond:
            self._waiting.append(ticket)
        acquired = False
        try:
            last = -1
            while True:
                with self._cond:
                    searches_done = not self._searching or time.monotonic() - queued >= DEFER_S
                    if not self._busy and self._waiting[0] is ticket and searches_done:
                        self._waiting.pop(0)
                        self._busy = acquired = True
                        return
                    position = self._waiting.index(ticket) + int(self._busy)
                    if position == last:
                        self._cond.wait(timeout=min(poll_s, DEFER_S / 4))
                        continue
                last = position
                yield position
        finally:
            if not acquired:
                with self._cond:
                    if ticket in self._waiting:
                        self._waiting.remove(ticket)
                    self._cond.notify_all()

    def release(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)
