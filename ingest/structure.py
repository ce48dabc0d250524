"""Heading detection for formats without markup (plain text, PDF, unstyled DOCX).

German administrative documents number their sections ("3.2 Eingangsstempel", "§ 6 Antrag"),
so a numbered line is a heading when its number continues the document's numbering. That
sequence check is what tells a heading from a numbered list item ("1. Personalausweis").
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


def _looks_like_title(title: str) -> bool:
    title = title.strip()
    if not title:
        return True
    return not title.endswith(_SENTENCE_END) and "Abs." not in title and len(title.split()) <= 14


@dataclass
class HeadingDetector:
    """Stateful: remembers the last accepted numbers to check the sequence."""

    last_decimal: tuple[int, ...] = ()
    last_paragraph: tuple[int, str] = (0, "")
    stack: list[tuple[int, str]] = field(default_factory=list)

    def detect(self, line: str) -> tuple[int, str] | None:
        """Return (level, heading text) when the line is a heading, else None."""
        line = " ".join(line.split())
        if not line or len(line) > 120:
            return None
        if m := _PART.match(line):
            if _looks_like_title(m["title"]):
                return 1, line
            return None
        if m := _PARAGRAPH.match(line):
            num = (int(m["num"]), m["suffix"])
            if num > self.last_paragraph and _looks_like_title(m["title"]):
                self.last_paragraph = num
                return 2, line
            return None
        if m := _DECIMAL.match(line):
            num = tuple(int(p) for p in m["num"].split("."))
            if _is_successor(self.last_decimal, num) and _looks_like_title(m["title"]):
                self.last_decimal = num
                return len(num), line
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
