"""Parse ahead: worker processes load and chunk the next files, and compute their BM25 tokens and
sentence units, while the main process embeds the files before them.

The same protection as `LoaderSandbox` (time limit per file, memory and CPU limits, originals
rendered in the worker): a file that hangs or crashes its worker fails alone; the other files
waiting in the queue are handed to a fresh worker. When a crash cannot be pinned on a file (several
workers), the file is read once more on its own before it is reported.
"""

from __future__ import annotations

import multiprocessing
import signal
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from kreiswissen.schema import Chunk

from .loaders import LoadError
from .sandbox import Limits, LoaderSandbox, MemoryLimitError, load_and_chunk


@dataclass
class ParsedFile:
    title: str
    chunks: list[Chunk]
    tokens: list[str]  # BM25 tokens of each chunk, space-separated
    units: list[list[str]]  # sentence units of each chunk


def parse_file(
    path: str, size: int, minimum: int, limits: Limits | None, originals: str | None
) -> ParsedFile:
    """Runs in a worker process: everything about a file that needs no model."""
    from text.german_text import analyze
    from text.sentence_units import split_units

    title, chunks = load_and_chunk(path, size, minimum, limits, originals)
    tokens = [" ".join(analyze(f"{c.heading_line}\n{c.text}")) for c in chunks]
    return ParsedFile(title, chunks, tokens, [split_units(c.text) for c in chunks])


@dataclass
class Ticket:
    path: Path
    future: Future


class ParseAhead:
    """Files are submitted in order and collected in the same order with `result`."""

    def __init__(self, sandbox: LoaderSandbox, workers: int, size: int, minimum: int) -> None:
        self.timeout_s = sandbox.timeout_s
        self.limits = sandbox.limits
        self.originals = str(sandbox.originals) if sandbox.originals else None
        self.workers = max(1, workers)
        self.size, self.minimum = size, minimum
        self._executor: ProcessPoolExecutor | None = None
        self._pending: list[Ticket] = []

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("forkserver")
            )
        return self._executor

    def _submit_future(self, path: Path) -> Future:
        return self._pool().submit(
            parse_file, str(path), self.size, self.minimum, self.limits, self.originals
        )

    def submit(self, path: Path) -> Ticket:
        ticket = Ticket(path, self._submit_future(path))
        self._pending.append(ticket)
        return ticket

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    def result(self, ticket: Ticket) -> ParsedFile:
        """The parsed file, or LoadError with a German reason. Frees the ticket's slot."""
        self._pending.remove(ticket)
        try:
            return ticket.future.result(timeout=self.timeout_s)
        except FutureTimeout as exc:
            self._restart()
            raise LoadError(f"Zeitlimit von {self.timeout_s:.0f} s beim Lesen überschritten") from exc
        except MemoryLimitError:
            self._restart()  # a worker that ran out of memory may be left in a bad state
            raise
        except BrokenProcessPool as exc:
            reason = self._crash_reason()
            self._restart()
            if self.workers == 1:  # the only file that was being read
                raise LoadError(reason) from exc
        # Several workers: the crash may have been another file's. Read this one alone.
        alone = self._submit_future(ticket.path)
        try:
            return alone.result(timeout=self.timeout_s)
        except FutureTimeout as exc:
            self._restart()
            raise LoadError(f"Zeitlimit von {self.timeout_s:.0f} s beim Lesen überschritten") from exc
        except BrokenProcessPool as exc:
            reason = self._crash_reason()
            self._restart()
            raise LoadError(reason) from exc

    def _crash_reason(self) -> str:
        codes = [p.exitcode for p in getattr(self._executor, "_processes", {}).values()]
        if -signal.SIGXCPU in codes:
            return f"Rechenzeit-Grenze von {self.limits.cpu_s:.0f} s beim Lesen überschritten"
        memory = f" (Speichergrenze {self.limits.memory_mb} MB)" if self.limits.memory_mb else ""
        return f"Datei hat das Leseprogramm zum Absturz gebracht, z. B. durch zu viel Speicherbedarf{memory}"

    def _restart(self) -> None:
        """Kill the workers; files still waiting go to fresh ones."""
        self._kill()
        for ticket in self._pending:
            ticket.future = self._submit_future(ticket.path)

    def _kill(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        for process in list(getattr(executor, "_processes", {}).values()):
            process.kill()
        executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop: files still waiting are dropped (a cancelled run), without waiting for a file
        that is still being read."""
        busy = any(not t.future.done() for t in self._pending)
        self._pending.clear()
        if busy:
            self._kill()
        elif self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
