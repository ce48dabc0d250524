"""Parse ahead: worker processes load and chunk the next files, and compute their BM25 tokens and
sentence units, while the main process embeds the files before them.

The same protection as `LoaderSandbox` (time limit per file, memory and CPU limits, originals
rendered in the worker): a file that hangs or crashes its worker fails alone; the other files
waiting in the queue are handed to a fresh worker. When a crash cannot be pinned on a file (several
workers), the file is read once more on its own before it is reported.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from kreiswissen.schema import Chunk

from .sandbox import Limits, LoaderSandbox, WorkerCrashed, Workers, load_and_chunk


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
        self._workers = Workers(self.workers, self.limits)
        self._pending: list[Ticket] = []

    def _submit_future(self, path: Path) -> Future:
        return self._workers.submit(
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
            return self._workers.result(ticket.future, self.timeout_s, self._restart)
        except WorkerCrashed:
            if self.workers == 1:  # the only file that was being read
                raise
        # Several workers: the crash may have been another file's. Read this one alone.
        alone = self._submit_future(ticket.path)
        return self._workers.result(alone, self.timeout_s, self._restart)

    def _restart(self) -> None:
        """Kill the workers; files still waiting go to fresh ones."""
        self._workers.kill()
        for ticket in self._pending:
            ticket.future = self._submit_future(ticket.path)

    def close(self) -> None:
        """Stop: files still waiting are dropped (a cancelled run), without waiting for a file
        that is still being read."""
        busy = any(not t.future.done() for t in self._pending)
        self._pending.clear()
        if busy:
            self._workers.kill()
        else:
            self._workers.shutdown(cancel_futures=True)
