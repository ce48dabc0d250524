"""Loading and chunking run in a separate worker process with a time limit per file.

A pathological file (a PDF whose parser loops, a 500-page scan under OCR) must stop only itself,
not the run, and must not take the server's memory with it. The worker is started once
(forkserver: no copy of the parent's threads or model weights) and replaced after a timeout.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from kreiswissen.schema import Chunk

from .chunker import chunk_document
from .loaders import LoadError, load_document


def load_and_chunk(path: str, size: int, minimum: int) -> tuple[str, list[Chunk]]:
    doc = load_document(Path(path))
    return doc.title, chunk_document(doc, size=size, minimum=minimum)


class LoaderSandbox:
    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("forkserver")
            )
        return self._executor

    def run(self, path: Path, size: int, minimum: int) -> tuple[str, list[Chunk]]:
        with self._lock:  # one file at a time per sandbox
            future = self._pool().submit(load_and_chunk, str(path), size, minimum)
            try:
                return future.result(timeout=self.timeout_s)
            except FutureTimeout as exc:
                self._kill()
                raise LoadError(f"Zeitlimit von {self.timeout_s:.0f} s beim Lesen überschritten") from exc
            except BrokenProcessPool as exc:
                self._kill()
                raise LoadError(
                    "Datei hat das Leseprogramm zum Absturz gebracht (z. B. zu wenig Speicher)"
                ) from exc

    def _kill(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        for process in list(getattr(executor, "_processes", {}).values()):
            process.kill()
        executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
