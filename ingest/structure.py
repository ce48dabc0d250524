"""Heading detection for formats without markup (plain text, PDF, unstyled DOCX).

German administrative documents number their sections ("3.2 Eingangsstempel", "§ 6 Antrag"),
so a numbered line is a heading when its number continues the document's numbering. That
sequence check is what tells a heading from a numbered list item ("1. Personalausweis").
Inside a statute (once a "§ N" heading was seen) bare decimal numbers are list items or tariff
rows ("4 Beglaubigung von Unterschriften 10,00 €"), unless the outline existed before the first §.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_DECIMAL = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(?P<title>[A-ZÄÖÜ„\"][^\n]{1,90})$")
_PARAGRAPH = re.compile(r"^§\s*(?P<num>\d{1,4})\s*(?P<suffix>[a-z]?)\b\s*(?P<title>[^\n]{0,110})$")
_PART = re.compile(
    r"^(?P<kind>Teil|Kapitel|Abschnitt|Unterabschnitt|Anlage|Anhang)\s+(?P<num>[\dIVXL]+[a-z]?)\b"
    r"\s*[-–:.]?\s*(?P<title>[^\n]{0,100})$"
)
_SENTENCE_END = (".", ",", ";", ":")
# A table row: an amount ("10,00 €", "1.899.000") at the end, a currency sign, or three numeric cells.
_AMOUNT_END = re.compile(r"(\d[\d.]*,\d{2}|\d{1,3}(?:\.\d{3})+)\s*(€|EUR|Euro)?$")
_NUMERIC_CELL = re.compile(r"(?<!\S)[\d.,/%-]*\d[\d.,/%-]*(?!\S)")
# Tesseract reads "§ 2" also as "& 2", "$2", "8 2", "82", "53" (seen on 100-dpi scans of § headings).
_OCR_SIGN = re.compile(r"^[$&§]\s*(?=\d)")
_OCR_GLUED = re.compile(r"^(§ \d{1,4})(?=[A-ZÄÖÜ])")  # "$ 1Örtliche Zuständigkeit"
_OCR_DIGIT = re.compile(r"^[58]\s?(?P<num>\d{1,3})(?P<suffix>[a-z]?)(?:\s+(?P<title>[A-ZÄÖÜ].*))?$")
# Words a wrapped sentence line ends on; a heading's title line does not.
_CONTINUES = {
    *("und", "oder", "der", "die", "das", "des", "dem", "den", "ein", "eine", "einer", "für"),
    *("von", "mit", "zu", "zur", "zum", "in", "im", "auf", "an", "bei", "nach", "wird", "werden"),
    *("ist", "sind", "hat", "haben", "kann", "können"),
}


def _table_row(title: str) -> bool:
    return (
        " | " in title
        or "€" in title
        or bool(_AMOUNT_END.search(title))
        or len(_NUMERIC_CELL.findall(title)) >= 3
    )


def _looks_like_title(title: str) -> bool:
    title = title.strip()
    if not title:
        return True
    return (
        not title.endswith(_SENTENCE_END)
        and "Abs." not in title
        and len(title.split()) <= 14
        and not _table_row(title)
    )


@dataclass
class HeadingDetector:
    """Stateful: remembers the last accepted numbers to check the sequence."""

    last_decimal: tuple[int, ...] = ()
    last_paragraph: tuple[int, str] = (0, "")
    # Set at the first § heading: True when a decimal outline ran before it (agenda items of minutes
    # around an embedded statute), so that outline may continue; False inside a plain statute.
    outline_in_statute: bool | None = None
    stack: list[tuple[int, str]] = field(default_factory=list)

    def detect(self, line: str) -> tuple[int, str] | None:
        """Return (level, heading text) when the line is a heading, else None."""
        line = self._normalise_ocr(" ".join(line.split()))
        if not line or len(line) > 120:
            return None
        if m := _PART.match(line):
            if _looks_like_title(m["title"]):
                if m["kind"] in ("Anlage", "Anhang"):
                    self.last_paragraph = (0, "")  # an annex may hold a statute of its own: § 1 again
                return 1, line
            return None
        if m := _PARAGRAPH.match(line):
            num = (int(m["num"]), m["suffix"])
            if num > self.last_paragraph and _looks_like_title(m["title"]):
                self.last_paragraph = num
                if self.outline_in_statute is None:
                    self.outline_in_statute = bool(self.last_decimal)
                return 2, line
            return None
        if self.outline_in_statute is False:
            return None  # numbered lines inside a statute are list items or tariff rows
        if m := _DECIMAL.match(line):
            num = tuple(int(p) for p in m["num"].split("."))
            if _is_successor(self.last_decimal, num) and _looks_like_title(m["title"]):
                self.last_decimal = num
                return len(num), line
        return None

    def _normalise_ocr(self, line: str) -> str:
        """'$ 8 Title', '§8 Title' → '§ 8 Title'; '8 8 Title' only with a title where § 8 comes next."""
        if _OCR_SIGN.match(line):
            return _OCR_GLUED.sub(r"\1 ", _OCR_SIGN.sub("§ ", line))
        if (m := _OCR_DIGIT.match(line)) and m["title"] and (stub := self.ocr_stub(line)):
            return f"{stub} {m['title']}"
        return line

    def ocr_stub(self, line: str) -> str | None:
        """'82' or '8 8 Title' → '§ 2' / '§ 8' when that is the next paragraph after one already seen."""
        m = _OCR_DIGIT.match(line)
        if not m or not self.last_paragraph[0]:
            return None
        num = (int(m["num"]), m["suffix"])
        if num > self.last_paragraph and num[0] <= self.last_paragraph[0] + 1:
            return f"§ {m['num']}{m['suffix']}"
        return None

    def push(self, level: int, text: str) -> tuple[str, ...]:
        """Enter a heading; return the current heading path."""
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, text))
        return self.path

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(t for _, t in self.stack)


def title_missing(heading: str) -> bool:
    """'§ 8' or 'Anlage 2' without a title: the title is on the next line."""
    m = _PARAGRAPH.match(heading) or _PART.match(heading)
    return bool(m) and not m["title"].strip()


def title_line(line: str, after_blank: bool = False) -> bool:
    """A line that can be the title of a heading printed on the line before ('§ 2' / 'Einzugsbereiche')."""
    line = " ".join(line.split())
    if not line or len(line) > 100 or not (line[0].isupper() or line[0] in '„"') or _PART.match(line):
        return False
    words = line.split()
    if line.isupper():  # headings in capitals may run over two lines and end on "DER"
        return len(words) <= 12 and not _table_row(line)
    limit = 5 if after_blank else 10
    return len(words) <= limit and _looks_like_title(line) and words[-1].lower() not in _CONTINUES


def _is_successor(prev: tuple[int, ...], new: tuple[int, ...]) -> bool:
    """True if `new` may follow `prev` in a numbered outline (1 → 1.1 → 1.2 → 2 → 2.1 …)."""
    if not prev:
        return new[0] in (0, 1) and all(n == 1 for n in new[1:])
    for k in range(len(new)):
        if new[:k] != prev[:k]:
            return False
        expected = prev[k] + 1 if k < len(prev) else 1
        if k == len(new) - 1:
            return new[k] == expected
        if k >= len(prev) or new[k] != prev[k]:
            return False
    return False


_HYPHEN_BREAK = re.compile(r"(\w)-\n(?=[a-zäöüß])")


def join_hyphenated(text: str) -> str:
    """Undo end-of-line hyphenation from PDF layout ("Zulassungs-\\nstelle" → "Zulassungsstelle")."""
    return _HYPHEN_BREAK.sub(r"\1", text)
