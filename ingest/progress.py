"""Progress of an ingest run: counts, rates and an estimate of the time remaining.

The estimate is by bytes, not by files: a county folder mixes one-page letters with 500-page
manuals, and the work (chunks to embed) grows with a file's text, not with the number of files.
Files that are unchanged since the last run are not counted as work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Before this much of the work is done, the rate is too noisy to promise a time.
_MIN_SHARE = 0.02
_MIN_SECONDS = 3.0


@dataclass
class Progress:
    files_total: int = 0
    files_done: int = 0  # handled in any way: indexed, unchanged, failed
    chunks_done: int = 0
    bytes_total: int = 0  # size of the files that need work (new or changed)
    bytes_done: int = 0
    current: str = ""
    started: float = field(default_factory=time.time)
    work_started: float | None = None  # when the first file that needs work was begun

    def elapsed(self, now: float | None = None) -> float:
        return (now or time.time()) - self.started

    def files_per_s(self, now: float | None = None) -> float | None:
        elapsed = self.elapsed(now)
        return self.files_done / elapsed if self.files_done and elapsed > 0 else None

    def chunks_per_s(self, now: float | None = None) -> float | None:
        if self.work_started is None or not self.chunks_done:
            return None
        elapsed = (now or time.time()) - self.work_started
        return self.chunks_done / elapsed if elapsed > 0 else None

    def eta_seconds(self, now: float | None = None) -> float | None:
        """Seconds until the run is done, from the rate of bytes indexed so far; None while unknown."""
        if self.work_started is None or not self.bytes_total:
            return 0.0 if self.files_total and self.files_done >= self.files_total else None
        elapsed = (now or time.time()) - self.work_started
        left = max(0, self.bytes_total - self.bytes_done)
        if not left:
            return 0.0
        if self.bytes_done < _MIN_SHARE * self.bytes_total or elapsed < _MIN_SECONDS:
            return None
        return elapsed / self.bytes_done * left


ProgressCallback = Callable[[Progress], None]


def duration_de(seconds: float) -> str:
    """'3 h 05 min', '12 min 40 s', '45 s'."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def rate_de(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}".replace(".", ",") if value < 10 else f"{value:.0f}"
