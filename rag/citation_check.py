"""Verifies the [n] citations of a generated answer against the sources the model was shown.

- a number that was not shown is removed from the text and reported as invalid;
- a citation whose sentence shares too little content with its source is flagged;
- a sentence without a citation gets one when a shown source clearly contains it (small models
  often forget the markers), and is reported as unsupported otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kreiswissen.schema import Source

from .german_text import analyze, split_sentences

_CITATION = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_ONLY_CITATIONS = re.compile(r"(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+\s*[.!?]?")

# Share of a sentence's content words that must occur in the cited source.
SUPPORT_MIN = 0.34
# For attaching a missing citation the evidence must be stronger.
AUTO_CITE_MIN = 0.6


@dataclass
class CitationReport:
    text: str  # answer text with invalid markers removed and missing ones added
    cited: list[int] = field(default_factory=list)  # valid and supported, in order of first use
    flagged: list[int] = field(default_factory=list)  # valid numbers cited for an unsupported sentence
    invalid: list[int] = field(default_factory=list)  # numbers that were not shown to the model
    unsupported_sentences: list[str] = field(default_factory=list)


def numbers_of(marker: str) -> list[int]:
    return [int(n) for n in re.split(r"\s*[,;]\s*", marker)]


def support(sentence: str, source_terms: set[str]) -> float:
    terms = set(analyze(_CITATION.sub(" ", sentence)))
    return len(terms & source_terms) / len(terms) if terms else 1.0


def sentences_of(line: str) -> list[str]:
    """Sentences of one answer line; a bare "[2]." after a full stop belongs to the sentence before."""
    out: list[str] = []
    for part in split_sentences(line):
        if out and _ONLY_CITATIONS.fullmatch(part):
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return out


def check_citations(answer: str, sources: list[Source]) -> CitationReport:
    shown = {s.number: set(analyze(f"{s.chunk.heading_line}\n{s.chunk.text}")) for s in sources}
    report = CitationReport(text="")

    def keep_valid(m: re.Match[str]) -> str:
        kept = [n for n in numbers_of(m.group(1)) if n in shown]
        return f"[{', '.join(map(str, kept))}]" if kept else ""

    lines_out: list[str] = []
    for line in answer.split("\n"):
        sentences_out: list[str] = []
        for sentence in sentences_of(line):
            numbers = [n for m in _CITATION.findall(sentence) for n in numbers_of(m)]
            valid = [n for n in dict.fromkeys(numbers) if n in shown]
            report.invalid += [n for n in numbers if n not in shown and n not in report.invalid]
            sentence = re.sub(r"\s+(?=[.!?]?$)", "", _CITATION.sub(keep_valid, sentence))
            content = _CITATION.sub(" ", sentence).strip()
            has_content = len(analyze(content)) >= 2
            if valid:
                supported = [n for n in valid if support(content, shown[n]) >= SUPPORT_MIN]
                report.cited += [n for n in supported if n not in report.cited]
                report.flagged += [n for n in valid if n not in supported and n not in report.flagged]
                if has_content and not supported:
                    report.unsupported_sentences.append(content)
            elif has_content:
                best = max(shown, key=lambda n: support(content, shown[n]), default=None)
                if best is not None and support(content, shown[best]) >= AUTO_CITE_MIN:
                    sentence = _append_marker(sentence, best)
                    _add(report.cited, best)
                else:
                    report.unsupported_sentences.append(content)
            sentences_out.append(sentence)
        lines_out.append(" ".join(sentences_out))
    report.text = "\n".join(lines_out).strip()
    # A number counts as flagged only if no sentence supports it.
    report.flagged = [n for n in report.flagged if n not in report.cited]
    return report


def _append_marker(sentence: str, number: int) -> str:
    stripped = sentence.rstrip()
    if stripped and stripped[-1] in ".!?:":
        return f"{stripped[:-1]} [{number}]{stripped[-1]}"
    return f"{stripped} [{number}]"


def _add(items: list[int], n: int) -> None:
    if n not in items:
        items.append(n)
