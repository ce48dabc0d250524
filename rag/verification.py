"""Fact-level verification of a generated answer against the sources it cites.

A sentence is shown as a supported statement only if
- it cites a source that was shown to the model (or, without a marker, one source clearly holds it),
- enough of its content words occur in that source (rag.citation_check.support),
- claim by claim, the source clause it restates agrees on every quantity (with its unit and period),
  comparator and polarity (text.claims); numbers from the question are no evidence, and a short
  "Ja."/"Nein, …" is checked against the polarity of the passage the question is about.
Sentences that fail are dropped. When the central claim fails — the first statement, a statement with
a number, or most of the answer — the generated text is not shown at all and the extract (quoted from
the document) is the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kreiswissen.schema import Source
from text.claims import answer_mismatch, claim_mismatch
from text.facts import quantities
from text.german_text import analyze

from .citation_check import (
    AUTO_CITE_MIN,
    CITATION,
    SUPPORT_MIN,
    claim_text,
    numbers_of,
    sentences_of,
    support,
)
from .prompt import REFUSAL

_REFUSAL_START = REFUSAL.split()[:5]
_YES_NO = re.compile(r"^\s*(?:ja|nein)\b", re.I)


@dataclass
class Verdict:
    text: str  # the verified sentences, with valid citation markers
    cited: list[int] = field(default_factory=list)
    flagged: list[int] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (sentence, reason)
    unsupported_central: bool = False


def is_refusal(text: str) -> bool:
    """The model wrote the refusal sentence the prompt gives it (possibly with extra words)."""
    words = text.split()
    return words[:5] == _REFUSAL_START or text.strip().startswith(REFUSAL[:40])


def _check(sentence: str, source_text: str) -> str | None:
    """None when the source backs the sentence, else the reason (for logs, the UI and `verify`):
    enough shared content words, then claim by claim against the aligned source clause (text.claims:
    quantities with their units and periods, comparators, polarity; nothing from the question)."""
    source_terms = set(analyze(source_text))
    if support(sentence, source_terms) < SUPPORT_MIN:
        return "zu wenig Übereinstimmung mit der Quelle"
    return claim_mismatch(sentence, source_text)


def _short_answer_check(content: str, question: str, shown: dict[int, str], cited: list[int]) -> str | None:
    """ "Ja.", "Nein, das ist nicht möglich.": a claim about the question, checked against the polarity
    of the source passage the question is about (the cited one, else the best-matching one)."""
    if not question.strip() or not shown:
        return None
    terms = set(analyze(question))
    candidates = cited or [max(shown, key=lambda n: len(terms & set(analyze(shown[n]))))]
    reasons = [answer_mismatch(content, question, shown[n]) for n in candidates]
    return next((r for r in reasons if r), None)


def verify_answer(text: str, sources: list[Source], question: str = "") -> Verdict:
    shown = {s.number: f"{s.chunk.heading_line}\n{s.chunk.text}" for s in sources}
    verdict = Verdict(text="")
    kept_lines: list[str] = []
    statements = 0
    for line in text.strip().split("\n"):
        kept: list[str] = []
        for sentence in sentences_of(line):
            numbers = [n for m in CITATION.findall(sentence) for n in numbers_of(m)]
            valid = [n for n in dict.fromkeys(numbers) if n in shown]
            content = claim_text(sentence)
            if len(analyze(content)) < 2 or _YES_NO.match(content):  # "Ja.", "Nein, das ist unzulässig."
                if not content or is_refusal(content):
                    continue
                if reason := _short_answer_check(content, question, shown, valid):
                    verdict.dropped.append((content, reason))
                    verdict.unsupported_central = True
                    continue
                if len(analyze(content)) < 2:  # a heading or a bare "Ja.": nothing more to compare
                    kept.append(CITATION.sub(lambda m: _keep(m, shown), sentence).strip())
                    continue
            statements += 1
            central = statements == 1 or bool(quantities(content))
            backing = valid or [max(shown, key=lambda n: support(content, set(analyze(shown[n]))))]
            reasons = {n: _check(content, shown[n]) for n in backing}
            good = [n for n, reason in reasons.items() if reason is None]
            if not valid and good and support(content, set(analyze(shown[good[0]]))) < AUTO_CITE_MIN:
                good = []  # without a marker, only a clearly matching source may be attached
            if good:
                allowed = dict.fromkeys(good)
                marked = CITATION.sub(lambda m, allowed=allowed: _keep(m, allowed), sentence).strip()
                if not valid:
                    marked = _append_marker(marked, good[0])
                kept.append(marked)
                verdict.cited += [n for n in good if n not in verdict.cited]
            else:
                verdict.flagged += [n for n in valid if n not in verdict.flagged]
                reason = next((r for r in reasons.values() if r), "keine Quelle angegeben")
                verdict.dropped.append((content, reason))
                verdict.unsupported_central |= central
        if kept:
            kept_lines.append(" ".join(kept))
    verdict.text = "\n".join(kept_lines).strip()
    verdict.flagged = [n for n in verdict.flagged if n not in verdict.cited]
    if statements == 0 or len(verdict.dropped) * 2 > statements:
        verdict.unsupported_central = True
    return verdict


def _keep(m: re.Match[str], allowed: dict) -> str:
    kept = [n for n in numbers_of(m.group(1)) if n in allowed]
    return f"[{', '.join(map(str, kept))}]" if kept else ""


def _append_marker(sentence: str, number: int) -> str:
    stripped = sentence.rstrip()
    if stripped and stripped[-1] in ".!?:":
        return f"{stripped[:-1]} [{number}]{stripped[-1]}"
    return f"{stripped} [{number}]"
