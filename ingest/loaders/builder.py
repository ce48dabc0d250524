"""Accumulates text lines into Blocks, cutting a new block at every heading and page change."""

from __future__ import annotations

from kreiswissen.schema import Block

from ..structure import HeadingDetector


class BlockBuilder:
    def __init__(self, detect_headings: bool = False) -> None:
        self.blocks: list[Block] = []
        self.headings = HeadingDetector()
        self.detect = detect_headings
        self._lines: list[str] = []
        self._page: int | None = None

    def heading(self, level: int, text: str) -> None:
        self.flush()
        self.headings.push(level, " ".join(text.split()))

    def page(self, number: int) -> None:
        self.flush()
        self._page = number

    def line(self, text: str) -> None:
        """Add one line of running text; with detect_headings, numbered lines become headings."""
        if self.detect and (found := self.headings.detect(text)):
            self.heading(*found)
            return
        self._lines.append(text)

    def paragraph(self, text: str) -> None:
        """Add a paragraph that is known not to be a heading (from markup)."""
        self._lines.append(text)
        self._lines.append("")

    def flush(self) -> None:
        text = "\n".join(self._lines).strip()
        self._lines = []
        if text:
            self.blocks.append(Block(text=text, headings=self.headings.path, page=self._page))
