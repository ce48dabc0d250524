"""Legal references in questions ("§ 6 FZV", "Paragraph 17 BMG", "§ 3a KraftStG") go straight to
that section of that law."""

from __future__ import annotations

import re
from dataclasses import dataclass

_REF = re.compile(
    r"(?:§|Paragraph|Paragraf|Par\.)\s*(?P<num>\d{1,4})(?P<suffix>[a-z])?\b"
    r"(?:\s*(?:Abs(?:atz|\.)?|Satz|Nr\.?)\s*\d+[a-z]?)*"
    r"(?:\s+(?:des|der|im|in|aus|nach)(?:\s+dem|\s+der)?)?"
    r"\s*(?P<law>SGB\s*[IVX\d]+\b|[A-ZÄÖÜ][A-Za-zÄÖÜäöüß]*[A-ZÄÖÜ][A-Za-zÄÖÜäöüß]*)?",
)


@dataclass(frozen=True)
class LegalRef:
    section: str  # "§ 6", "§ 3a"
    law: str | None  # "FZV", "SGB II", or None when not named


def find_refs(text: str) -> list[LegalRef]:
    refs = []
    for m in _REF.finditer(text):
        law = " ".join(m["law"].split()) if m["law"] else None
        refs.append(LegalRef(f"§ {m['num']}{m['suffix'] or ''}", law))
    return refs


_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7", "viii": "8", "ix": "9",
          "x": "10", "xi": "11", "xii": "12"}  # fmt: skip


def _norm(abbreviation: str) -> str:
    """'SGB II' → 'sgb2', 'KraftStG' → 'kraftstg'."""
    parts = abbreviation.lower().split()
    if len(parts) > 1 and parts[-1] in _ROMAN:
        parts[-1] = _ROMAN[parts[-1]]
    return "".join(parts)


def law_matches(law: str, doc_id: str, title: str) -> bool:
    """Does the abbreviation name this document? Compared with the title's words and the file stem."""
    wanted = _norm(law)
    words = {_norm(w) for w in re.findall(r"[\wÄÖÜäöüß]+(?:\s+[IVX\d]+\b)?", title)}
    stem_parts = re.split(r"[_\-\s]+", doc_id.lower())
    return wanted in words or wanted in (stem_parts[0], "".join(stem_parts[:2]))
