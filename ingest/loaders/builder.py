"""Accumulates text lines into Blocks, cutting a new block at every heading and page change."""

from __future__ import annotations

from dataclasses import dataclass

from kreiswissen.schema import Block

from ..structure import HeadingDetector, title_line, title_missing


@dataclass
class _Pending:
    """A heading whose title may follow on the next line ('§ 2' / 'Einzugsbereiche')."""

    level: int
    text: str
    raw: str | None = None  # an OCR stub ('82') stays text unless a title follows at once
    after_blank: bool = False
    title_lines: int = 0


class BlockBuilder:
    def __init__(self, detect_headings: bool = False) -> None:
        self.blocks: list[Block] = []
        self.headings = HeadingDetector()
        self.detect = detect_headings
        self._lines: list[str] = []
        self._page: int | None = None
        self._pending: _Pending | None = None

    def heading(self, level: int, text: str) -> None:
        self.flush()
        self.headings.push(level, " ".join(text.split()))

    def page(self, number: int) -> None:
        self._emit()  # a pending heading may find its title at the top of the next page
        self._page = number

    def line(self, text: str) -> None:
        """Add one line of running text; with detect_headings, numbered lines become headings."""
        if not self.detect:
            self._lines.append(text)
            return
        if self._pending and self._title(text):
            return
        if found := self.headings.detect(text):
            if title_missing(found[1]):
                self._emit()
                self._pending = _Pending(*found)
            else:
                self.heading(*found)
            return
        if stub := self.headings.ocr_stub(" ".join(text.split())):
            self._emit()
            self._pending = _Pending(2, stub, raw=text)
            return
        self._lines.append(text)

    def _title(self, text: str) -> bool:
        """Offer a line to the pending heading; True when it was taken (as title or blank)."""
        p = self._pending
        assert p is not None
        text = " ".join(text.split())
        if not text and p.raw is None and not p.title_lines:
            p.after_blank = True
            return True
        # A second title line only continues a title in capitals ("AUFNAHME IN DIE … DER" / "FEUERWEHR").
        more = p.title_lines == 0 or (text.isupper() and p.text.isupper())
        # A bare OCR stub ('82') is weak evidence: only a short or capitalised title confirms it.
        confirms = p.raw is None or text.isupper() or len(text.split()) <= 4
        if text and more and confirms and p.title_lines < 2 and title_line(text, p.after_blank):
            if p.raw is not None:
                found = self.headings.detect(f"{p.text} {text}")  # commits the § number
                if not found:
                    self._resolve()
                    return False
                p.text, p.raw = found[1], None
            else:
                p.text = f"{p.text} {text}"
            p.title_lines += 1
            return True
        self._resolve()
        return False

    def _resolve(self) -> None:
        p, self._pending = self._pending, None
        if p is None:
            return
        if p.raw is not None:
            self._lines.append(p.raw)
        else:
            self.headings.push(p.level, p.text)

    def paragraph(self, text: str) -> None:
        """Add a paragraph that is known not to be a heading (from markup)."""
        self._lines.append(text)
        self._lines.append("")

    def flush(self) -> None:
        self._resolve()
        self._emit()

    def _emit(self) -> None:
        text = "\n".join(self._lines).strip()
        self._lines = []
        if text:
            self.blocks.append(Block(text=text, headings=self.headings.path, page=self._page))
