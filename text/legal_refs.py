"""Legal references in questions ("§ 6 FZV", "§§ 6 und 7 FZV", "Art. 6 DSGVO", "§ 17
Bundesmeldegesetz") go straight to that section of that law.

Two readers (setting `retrieval.legal_parser`): `bundesrecht`, the maintained parser of German
federal law citations (lists, ranges, "i.V.m.", "Abs./S./Nr.", articles; offline — only its
parser and normaliser are used, never its downloadable corpus), fed with the citation spans found
here; and `regex`, the earlier hand-written pattern (one "§ N LAW" per match).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bundesrecht import normalise, parse_reference

_REF = re.compile(
    r"(?:§|Paragraph|Paragraf|Par\.)\s*(?P<num>\d{1,4})(?P<suffix>[a-z])?\b"
    r"(?:\s*(?:Abs(?:atz|\.)?|Satz|Nr\.?)\s*\d+[a-z]?)*"
    r"(?:\s+(?:des|der|im|in|aus|nach)(?:\s+dem|\s+der)?)?"
    r"\s*(?P<law>SGB\s*[IVX\d]+\b|[A-ZÄÖÜ][A-Za-zÄÖÜäöüß]*[A-ZÄÖÜ][A-Za-zÄÖÜäöüß]*)?",
)

# A citation span: its opener, then numbers, sub-references and connectors, then the law's name
# (an abbreviation with two capitals, "SGB II", or a word naming a law: "Bundesmeldegesetz(es)").
_NUM = r"\d{1,4}[a-z]?\b"
_LEVEL = (
    r"(?:Abs(?:atz|\.)?|Absätze|S\.|Satz|Sätze|Nr\.?|Nummer|Buchst\.?|Buchstabe|lit\.|Alt\.|Hs\.|Halbsatz)"
)
_LINK = r"(?:,|und|oder|bis|-|–|f\.|ff\.|i\.\s?V\.\s?m\.|iVm|§§?|Art\.|Artikel)"
_LAW_WORD = r"[A-ZÄÖÜ][A-Za-zäöüß-]*(?:gesetz|gesetzbuch|verordnung|ordnung)(?:es|s)?\b"
_LAW_ABBR = r"SGB\s*[IVX\d]+\b|[A-ZÄÖÜ][A-Za-zÄÖÜäöüß]*[A-ZÄÖÜ][A-Za-zÄÖÜäöüß]*(?:\s\d{4})?\b"
_SPAN = re.compile(
    rf"(?P<open>§§?|Art\.|Artikel|Paragraph(?:en)?|Paragraf(?:en)?|Par\.)\s*{_NUM}"
    rf"(?:\s*(?:{_LEVEL}\s*(?:{_NUM}|[a-z]\b)|{_LINK}|{_NUM}))*"
    rf"(?:\s*(?:(?:des|der|im|in|aus|nach)(?:\s+dem|\s+der)?\s+)?(?P<law>{_LAW_ABBR}|{_LAW_WORD}))?"
)
_OPENERS = [(re.compile(r"\bParagra(?:ph|f)en\b"), "§§"), (re.compile(r"\b(?:Paragra(?:ph|f)|Par\.)"), "§"),
            (re.compile(r"\bArtikel\b"), "Art."), (re.compile(r"\s*(?:,|und|oder|sowie)\s*(?=§)"), " i.V.m. "),
            (re.compile(r"\s+(?:des|der|im|in|aus|nach)(?:\s+dem|\s+der)?(?=\s+\S+$)"), "")]  # fmt: skip


@dataclass(frozen=True)
class LegalRef:
    section: str  # "§ 6", "§ 3a", "Art. 6"
    law: str | None  # "FZV", "SGB II", "Bundesmeldegesetz", or None when not named

    @property
    def headings(self) -> tuple[str, ...]:
        """How a heading of this section may begin ("Art. 6" or "Artikel 6")."""
        if self.section.startswith("Art. "):
            return (self.section, "Artikel " + self.section[5:])
        return (self.section,)


def find_refs(text: str, parser: str = "bundesrecht") -> list[LegalRef]:
    refs = _find_bundesrecht(text) if parser == "bundesrecht" else _find_regex(text)
    return list(dict.fromkeys(refs))


def _find_regex(text: str) -> list[LegalRef]:
    refs = []
    for m in _REF.finditer(text):
        law = " ".join(m["law"].split()) if m["law"] else None
        refs.append(LegalRef(f"§ {m['num']}{m['suffix'] or ''}", law))
    return refs


def _find_bundesrecht(text: str) -> list[LegalRef]:
    refs: list[LegalRef] = []
    for m in _SPAN.finditer(text):
        span = m.group(0).strip(" ,")
        for pattern, replacement in _OPENERS:
            span = pattern.sub(replacement, span)
        article = m["open"] in ("Art.", "Artikel")
        try:
            canonical = normalise(span)
            parsed = [parse_reference(c) for c in canonical]
        except Exception:  # a span the parser cannot read: the regex still may
            refs += _find_regex(m.group(0))
            continue
        for ref in parsed:
            law = " ".join(ref.law.split()) if ref.law else None
            for paragraph in ref.paragraphs:
                number = paragraph.paragraph.replace(" ", "")
                refs.append(LegalRef(f"Art. {number}" if article else f"§ {number}", law))
    return refs


_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7", "viii": "8", "ix": "9",
          "x": "10", "xi": "11", "xii": "12"}  # fmt: skip


def _norm(abbreviation: str) -> str:
    """'SGB II' → 'sgb2', 'KraftStG' → 'kraftstg'."""
    parts = abbreviation.lower().split()
    if len(parts) > 1 and parts[-1] in _ROMAN:
        parts[-1] = _ROMAN[parts[-1]]
    return "".join(parts)


_GENITIVE = re.compile(r"(gesetz|buch)e?s$")


def law_matches(law: str, doc_id: str, title: str) -> bool:
    """Does the abbreviation name this document? Compared with the title's words and the file stem."""
    wanted = _GENITIVE.sub(r"\1", _norm(law))  # "Bundesmeldegesetzes" → "bundesmeldegesetz"
    words = {_norm(w) for w in re.findall(r"[\wÄÖÜäöüß]+(?:\s+[IVX\d]+\b)?", title)}
    stem_parts = re.split(r"[_\-\s]+", doc_id.lower())
    return wanted in words or wanted in (stem_parts[0], "".join(stem_parts[:2]))


# Transitional and commencement provisions ("§ 42a Übergangsregelung …", "Teil 8 – Überleitungs-
# vorschriften", "Inkrafttreten") restate the operative rules for old cases and dates, in the same
# words: they compete with the operative § for every question about the rule itself.
_TRANSITIONAL = re.compile(r"(?i)übergangs|überleitungs|inkrafttreten|außerkrafttreten")
_ASKS_TRANSITION = re.compile(
    r"(?i)übergang|überleitung|inkraft|außerkraft|bisherig|früher|alte[nsmr]? (?:recht|fassung)|\b(?:19|20)\d\d\b"
)


def is_transitional(section: str) -> bool:
    """A heading path under a transitional or commencement provision."""
    return bool(_TRANSITIONAL.search(section))


def asks_about_transition(question: str) -> bool:
    """The question is about old law, a changeover or a date: transitional provisions may answer it."""
    return bool(_ASKS_TRANSITION.search(question))
