"""One generation at a time (the CPU is the bottleneck), in arrival order, with honest positions.

`wait_turn()` is a generator: it yields the caller's position (answers ahead of it) while it waits
and returns once the caller holds the slot; the caller must then `release()`. Closing the generator
while waiting (the user cancelled) gives up the place in the queue.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator


class GenerationQueue:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._waiting: list[object] = []

    def wait_turn(self, poll_s: float = 0.5) -> Iterator[int]:
        ticket = object()
        with self._cond:
            self._waiting.append(ticket)
        acquired = False
        try:
            last = -1
            while True:
                with self._cond:
                    if not self._busy and self._waiting[0] is ticket:
                        self._waiting.pop(0)
                        self._busy = acquired = True
                        return
                    position = self._waiting.index(ticket) + int(self._busy)
                    if position == last:
                        self._cond.wait(timeout=poll_s)
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
