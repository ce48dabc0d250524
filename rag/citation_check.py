"""Citation markers and word support: the building blocks of the verifier (rag/verification.py).

`[n]` markers are parsed, answer lines split into sentences (a bare "[2]." after a full stop belongs
to the sentence before), and a sentence's support is the share of its content words (stemmed) that
occur in a source.
"""

from __future__ import annotations

import re

from text.german_text import analyze, split_sentences

CITATION = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_ONLY_CITATIONS = re.compile(r"(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+\s*[.!?]?")

# Share of a sentence's content words that must occur in the cited source.
SUPPORT_MIN = 0.34
# For attaching a missing citation the evidence must be stronger.
AUTO_CITE_MIN = 0.6


def numbers_of(marker: str) -> list[int]:
    return [int(n) for n in re.split(r"\s*[,;]\s*", marker)]


def support(sentence: str, source_terms: set[str]) -> float:
    terms = set(analyze(CITATION.sub(" ", sentence)))
    return len(terms & source_terms) / len(terms) if terms else 1.0


_SPACE_BEFORE_MARK = re.compile(r"\s+([.,;:!?])")


def claim_text(sentence: str) -> str:
    """A sentence without its citation markers, as a claim is shown: "… 50 Euro [1]." → "… 50 Euro."."""
    return _SPACE_BEFORE_MARK.sub(r"\1", " ".join(CITATION.sub(" ", sentence).split()))


def sentences_of(line: str) -> list[str]:
    """Sentences of one answer line; a bare "[2]." after a full stop belongs to the sentence before."""
    out: list[str] = []
    for part in split_sentences(line):
        if out and _ONLY_CITATIONS.fullmatch(part):
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return out
