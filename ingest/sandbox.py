"""Loading and chunking run in a separate worker process with a time limit per file.

A pathological file (a PDF whose parser loops, a 500-page scan under OCR, a ZIP bomb disguised as
DOCX) must stop only itself, not the run, and must not take the server's memory with it. The worker is
started once (forkserver: no copy of the parent's threads or model weights) with operating-system
limits on its address space and CPU time (resource.setrlimit), and replaced after a timeout or crash.
It also renders the readable page of each original (ingest/original_page.py), so that the web process
never parses a document itself.
"""

from __future__ import annotations

import multiprocessing
import resource
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from kreiswissen.files import file_sha256
from kreiswissen.schema import Chunk
from kreiswissen.settings import Settings

from .chunker import chunk_document
from .loaders import LoadError, load_document
from .original_page import store_original

T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    """Per-file limits of the worker process; 0 = no limit."""

    memory_mb: int = 0
    cpu_s: float = 0

    def apply(self) -> None:
        """Set the soft limits of this process: its address space, and CPU time from now on (the
        worker is reused, so the CPU limit counts from the start of each file)."""
        if self.memory_mb:
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            soft = self.memory_mb << 20
            resource.setrlimit(resource.RLIMIT_AS, (soft if hard < 0 else min(soft, hard), hard))
        if self.cpu_s:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            _, hard = resource.getrlimit(resource.RLIMIT_CPU)
            soft = int(usage.ru_utime + usage.ru_stime + self.cpu_s) + 1
            resource.setrlimit(resource.RLIMIT_CPU, (soft if hard < 0 else min(soft, hard), hard))


class MemoryLimitError(LoadError):
    pass


def load_and_chunk(
    path: str, size: int, minimum: int, limits: Limits | None = None, originals: str | None = None
) -> tuple[str, list[Chunk]]:
    """Runs in the worker: load, chunk and (with `originals`) render the readable original."""
    if limits is not None:
        limits.apply()
    try:
        doc = load_document(Path(path))
        chunks = chunk_document(doc, size=size, minimum=minimum)
        if originals:
            store_original(Path(originals), file_sha256(Path(path)), Path(path), doc)
    except (MemoryError, LoadError) as exc:
        if not _out_of_memory(exc):
            raise
        mb = limits.memory_mb if limits else 0
        raise MemoryLimitError(
            f"Datei braucht beim Lesen mehr als {mb} MB Arbeitsspeicher (z. B. eine ZIP-Bombe) "
            "und wird nicht indexiert"
        ) from None
    return doc.title, chunks


def _out_of_memory(exc: BaseException | None) -> bool:
    """A MemoryError anywhere in the chain (loaders wrap parser errors in LoadError)."""
    for _ in range(20):  # chains are short; the bound guards against a cycle
        if exc is None:
            return False
        if isinstance(exc, MemoryError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class WorkerCrashed(LoadError):
    """A worker process died while reading (the reason says what is known: CPU or memory limit)."""


class Workers:
    """Worker processes with the per-file limits, started on first use; after a timeout or crash they
    are killed and the next submit starts fresh ones."""

    def __init__(self, count: int, limits: Limits) -> None:
        self.count = count
        self.limits = limits
        self._executor: ProcessPoolExecutor | None = None

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.count, mp_context=multiprocessing.get_context("forkserver")
            )
        return self._executor.submit(fn, *args)

    def result(self, future: Future[T], timeout_s: float, after_failure: Callable[[], None]) -> T:
        """The future's result. After a timeout, a memory limit or a crash, `after_failure` runs (kill
        or restart the workers) and the error says why in German."""
        try:
            return future.result(timeout=timeout_s)
        except FutureTimeout as exc:
            after_failure()
            raise LoadError(f"Zeitlimit von {timeout_s:.0f} s beim Lesen überschritten") from exc
        except MemoryLimitError:
            after_failure()  # a worker that ran out of memory may be left in a bad state
            raise
        except BrokenProcessPool as exc:
            reason = self._crash_reason()
            after_failure()
            raise WorkerCrashed(reason) from exc

    def _crash_reason(self) -> str:
        codes = [p.exitcode for p in getattr(self._executor, "_processes", {}).values()]
        if -signal.SIGXCPU in codes:
            return f"Rechenzeit-Grenze von {self.limits.cpu_s:.0f} s beim Lesen überschritten"
        memory = f" (Speichergrenze {self.limits.memory_mb} MB)" if self.limits.memory_mb else ""
        return f"Datei hat das Leseprogramm zum Absturz gebracht, z. B. durch zu viel Speicherbedarf{memory}"

    def kill(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        for process in list(getattr(executor, "_processes", {}).values()):
            process.kill()
        executor.shutdown(wait=False, cancel_futures=True)

    def shutdown(self, cancel_futures: bool = False) -> None:
        """Stop the workers after the file they are reading."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=cancel_futures)
            self._executor = None


class LoaderSandbox:
    def __init__(
        self,
        timeout_s: float,
        memory_mb: int = 0,
        cpu_s: float = 0,
        originals: Path | None = None,
    ) -> None:
        self.timeout_s = timeout_s
        self.limits = Limits(memory_mb, cpu_s)
        self.originals = originals
        self._workers = Workers(1, self.limits)
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: Settings) -> LoaderSandbox:
        i = settings.ingest
        return cls(i.file_timeout_s, i.max_memory_mb, i.max_cpu_s, settings.index_dir / "originals")

    def run(self, path: Path, size: int, minimum: int) -> tuple[str, list[Chunk]]:
        with self._lock:  # one file at a time per sandbox
            originals = str(self.originals) if self.originals else None
            future = self._workers.submit(load_and_chunk, str(path), size, minimum, self.limits, originals)
            return self._workers.result(future, self.timeout_s, self._workers.kill)

    def close(self) -> None:
        self._workers.shutdown()
