"""Fact-level verification of a generated answer against the sources it cites.

A sentence is shown as a supported statement only if
- it cites a source that was shown to the model (or, without a marker, one source clearly holds it),
- enough of its content words occur in that source (rag.citation_check.support),
- every number, amount, date, duration and § reference in it occurs in that source (text.facts), and
- its negation agrees with the source sentence it restates ("nicht", "kein" …).
Sentences that fail are dropped. When the central claim fails — the first statement, a statement with
a number, or most of the answer — the generated text is not shown at all and the extract (quoted from
the document) is the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kreiswissen.schema import Source
from text.facts import negated, quantities, unsupported_quantities
from text.german_text import analyze
from text.sentence_units import split_units

from .citation_check import AUTO_CITE_MIN, CITATION, SUPPORT_MIN, numbers_of, sentences_of, support
from .prompt import REFUSAL

_REFUSAL_START = REFUSAL.split()[:5]


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


def _negation_agrees(sentence: str, source_text: str) -> bool:
    """The source unit that best matches the sentence must be negated exactly when the sentence is."""
    terms = set(analyze(sentence))
    units = split_units(source_text) or [source_text]
    best = max(units, key=lambda u: len(terms & set(analyze(u))))
    return negated(sentence) == negated(best)


def _check(sentence: str, source_text: str, question: str) -> str | None:
    """None when the source backs the sentence, else the reason (for logs and the eval report)."""
    source_terms = set(analyze(source_text))
    if support(sentence, source_terms) < SUPPORT_MIN:
        return "zu wenig Übereinstimmung mit der Quelle"
    missing = unsupported_quantities(sentence, [source_text], question)
    if missing:
        return "nicht in der Quelle: " + ", ".join(q.raw for q in missing)
    if not _negation_agrees(sentence, source_text):
        return "Verneinung weicht von der Quelle ab"
    return None


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
            content = CITATION.sub(" ", sentence).strip()
            if len(analyze(content)) < 2:  # a heading, "Ja.", a bare marker: nothing to verify
                if content and not is_refusal(content):
                    kept.append(CITATION.sub(lambda m: _keep(m, shown), sentence).strip())
                continue
            statements += 1
            central = statements == 1 or bool(quantities(content))
            backing = valid or [max(shown, key=lambda n: support(content, set(analyze(shown[n]))))]
            reasons = {n: _check(content, shown[n], question) for n in backing}
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
