"""The generation queue: one at a time, and extracts of questions still being searched come first."""

from __future__ import annotations

import threading
import time

from rag import generation_queue
from rag.generation_queue import GenerationQueue


def _take_turn(queue: GenerationQueue) -> float:
    started = time.monotonic()
    for _position in queue.wait_turn(poll_s=0.01):
        pass
    queue.release()
    return time.monotonic() - started


def test_a_generation_waits_for_searches_in_flight_then_starts() -> None:
    queue = GenerationQueue()
    searched = threading.Event()

    def search() -> None:
        with queue.searching():
            time.sleep(0.4)
        searched.set()

    threading.Thread(target=search).start()
    time.sleep(0.05)
    waited = _take_turn(queue)
    assert searched.is_set() and 0.3 <= waited < 1.0
    assert _take_turn(queue) < 0.1  # nothing searched: the slot is free at once


def test_a_generation_is_deferred_at_most_defer_s(monkeypatch) -> None:
    monkeypatch.setattr(generation_queue, "DEFER_S", 0.3)
    queue = GenerationQueue()
    with queue.searching():  # a search that never ends (a stalled client)
        waited = _take_turn(queue)
    assert 0.25 <= waited < 0.8
