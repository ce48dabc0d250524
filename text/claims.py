"""Claim-level comparison of a generated sentence with the source passage it cites.

A sentence is split into clauses ("Bei mehr als 8 Stunden beträgt das Tagegeld 14 Euro, bei 24 Stunden
28 Euro" holds two claims). Each clause is aligned to the source clause that shares most of its
content words, and it is backed only where that one clause agrees on
- every quantity (number with its unit, amount, date, duration, percentage, § reference; durations in
  exact conversions, "ein halbes Jahr" = "6 Monate", "72 Stunden" = "drei Tage"),
- the noun a bare number counts ("30 Kilometer" is not "30 Euro") and the period of a rate ("pro Tag"
  is not "je Monat"),
- comparators (mindestens ↔ höchstens, vor ↔ nach, frühestens ↔ spätestens, mehr ↔ weniger als),
- polarity (nicht, kein, nie … and "unzulässig", "ausgeschlossen").
Two facts of one source can thus not be paired wrongly, and a "nicht" elsewhere in the source does not
cover a dropped "kein". Nothing from the question counts as evidence.
"""

from __future__ import annotations

import re

from .facts import Quantity, negations, normalize, quantities, supported
from .german_text import analyze, compound_parts, split_sentences

# A clause ends at ";" and at a comma before a lower-case word ("…, bei 24 Stunden", "…, wenn kein …"),
# never inside a number ("1.800,50").
_CLAUSE_END = re.compile(r";\s+|,\s+(?=[a-zäöüß])")
_OPPOSITES = [
    ("mindestens", "höchstens"),
    ("frühestens", "spätestens"),
    ("vor", "nach"),
    ("mehr als", "weniger als"),
]
# "vor"/"nach" compare only as points in time ("vor Beginn", "nach Ablauf"), not "nach § 6".
_TEMPORAL = re.compile(
    r"\b(vor|nach) (?=(?:dem |der |den |des )?(?:beginn|ablauf|ende|eingang|zugang|erhalt|bekanntgabe|"
    r"zustellung|antrag|geburt|entbindung|\d))"
)
_RATE = re.compile(
    r"\b(?:pro|je|im|in der|in einem|jede[nmrs]?)\s+(kalender)?(tag|woche|monat|jahr|stunde|quartal)"
    r"|\b(täg|wöchent|monat|jähr|stünd|vierteljähr)lich",
)
_RATE_CANON = {"täg": "tag", "wöchent": "woche", "monat": "monat", "jähr": "jahr", "stünd": "stunde",
               "vierteljähr": "quartal"}  # fmt: skip
_COUNTED = re.compile(r"(?<![\d.,])(\d+(?:,\d+)?) ([a-zäöüß]{3,})")
# Lexical negation: what a caseworker reads as "no" without a "nicht".
_NEGATIVE_WORDS = re.compile(r"\b(?:unzulässig|ausgeschlossen|untersagt|verboten|unmöglich|entfällt)\w*")
_YES_NO = re.compile(r"^\s*(ja|nein)\b", re.I)


# Spelled-out durations, stated as numbers so that the quantities compare ("ein halbes Jahr" = 6 Monate).
_EQUIVALENT = [
    (re.compile(r"\b(?:ein(?:em|es)? )?halbe[sn]? jahr(?:es)?\b"), "6 monate"),
    (re.compile(r"\b(?:ein(?:em|es)? )?vierteljahr(?:es)?\b"), "3 monate"),
    (re.compile(r"\banderthalb jahren?\b"), "18 monate"),
    (re.compile(r"\b(?:eine[rn]? )?halbe[nr]? stunde\b"), "30 minuten"),
]
# Durations that convert exactly into minutes (Werktage and Arbeitstage do not).
_MINUTES = {"minute": 1, "stunde": 60, "tag": 1440, "kalendertag": 1440, "woche": 10080}
_MONTH_NAMES = ["januar", "februar", "märz", "april", "mai", "juni", "juli", "august", "september",
                "oktober", "november", "dezember"]  # fmt: skip
_PART_OF_MONTH = re.compile(r"\b(anfang|mitte|ende) (" + "|".join(_MONTH_NAMES) + r")\b")
_DAYS = {"anfang": range(1, 11), "mitte": range(11, 21), "ende": range(21, 32)}


def _facts(text: str) -> list[Quantity]:
    t = normalize(text)
    for pattern, value in _EQUIVALENT:
        t = pattern.sub(value, t)
    return quantities(t)


def _minutes(q: Quantity) -> int | None:
    amount, unit = q.value.split(" ", 1)
    factor = _MINUTES.get(unit)
    return None if factor is None else round(float(amount.replace(",", ".")) * factor)


def _stated(q: Quantity, found: list[Quantity]) -> bool:
    """Like facts.supported, but a bare number is stated only by a number, an amount, a duration or a
    percentage with that value, or by a date's year — never by a date's day or month or a §'s number
    ("3 Formulare" is not in "31.03.2025", "2 mal" not in "§ 6 Abs. 2")."""
    if q.kind == "number":
        return any(
            (s.kind in ("number", "amount", "duration", "percent") and q.value in s.numerals)
            or (s.kind == "date" and s.value[:4] == q.value)
            for s in found
        )
    minutes = _minutes(q) if q.kind == "duration" else None
    if minutes is not None and any(s.kind == "duration" and _minutes(s) == minutes for s in found):
        return True
    return supported(q, found)


def _month_part_mismatch(claim: str, clause: str) -> str | None:
    """ "Anfang März" is not "31. März": the part of the month must hold the stated day."""
    for part, month in _PART_OF_MONTH.findall(normalize(claim)):
        for q in quantities(clause):
            same_month = q.kind == "date" and len(q.value) == 10 and int(q.value[5:7]) == _month_number(month)
            if same_month and int(q.value[8:]) not in _DAYS[part]:
                return f"„{part} {month}“ weicht vom Datum der Quelle ab"
    return None


def _month_number(name: str) -> int:
    return _MONTH_NAMES.index(name) + 1


def clauses(text: str) -> list[str]:
    return [clause for clause, _ in _clauses_in_sentences(text)]


def _clauses_in_sentences(text: str) -> list[tuple[str, str]]:
    """Each clause with the sentence it belongs to."""
    return [
        (part.strip(), sentence)
        for sentence in split_sentences(text.strip())
        for part in _CLAUSE_END.split(sentence)
        if part.strip()
    ]


def _words(text: str) -> set[str]:
    return set(analyze(text))


def align(claim: str, source: str) -> tuple[str, str] | None:
    """The source clause sharing most content words with the claim (quantities break ties), with its
    sentence."""
    candidates = _clauses_in_sentences(source)
    if not candidates:
        return None
    # Words only (a clause that merely repeats the claim's number is no better match), the clause's
    # sentence counting half: "es beträgt 316 Euro" is about the Pflegegeld its sentence names.
    words = {w for w in _words(claim) if not w[:1].isdigit()}
    values = {q.value for q in quantities(claim)}

    def score(c: tuple[str, str]) -> tuple[float, int, int]:
        shared = len(words & _words(c[0])) + 0.5 * len(words & _words(c[1]))
        return shared, len(values & {q.value for q in quantities(c[0])}), -len(c[0])

    return max(candidates, key=score)


def _rates(text: str) -> set[str]:
    found = set()
    for m in _RATE.finditer(normalize(text)):
        found.add(m.group(2) if m.group(2) else _RATE_CANON[m.group(3)])
    return found


def _counted(text: str) -> dict[str, set[str]]:
    """Bare numbers with the noun they count: {"30": {"kilomet"}} ("30 Kilometer")."""
    out: dict[str, set[str]] = {}
    for number, noun in _COUNTED.findall(normalize(text)):
        stems = analyze(noun)
        if stems:
            out.setdefault(number, set()).add(stems[0])
    return out


def _comparators(text: str) -> set[str]:
    t = f" {normalize(text)} "
    found = {w for pair in _OPPOSITES[:1] + _OPPOSITES[1:2] + _OPPOSITES[3:] for w in pair if f" {w} " in t}
    return found | {m.group(1) for m in _TEMPORAL.finditer(t)}


def polarity(text: str) -> bool:
    """False for a negative statement ("nicht möglich", "unzulässig", "Nein, …")."""
    if m := _YES_NO.match(text):
        return m.group(1).lower() == "ja"
    negative = bool(negations(text)) ^ bool(_NEGATIVE_WORDS.search(normalize(text)))
    return not negative


def clause_mismatch(claim: str, clause: str, sentence: str | None = None) -> str | None:
    """Why the source clause does not state the claim clause (None when it does). The period of a rate
    may stand elsewhere in the clause's sentence ("Das Pflegegeld wird monatlich gezahlt, es beträgt
    316 Euro")."""
    stated = _facts(clause)
    missing = [q.raw for q in _facts(claim) if not _stated(q, stated)]
    if missing:
        return "nicht in der zugeordneten Quellenstelle: " + ", ".join(missing)
    source_counted = _counted(clause)
    for number, nouns in _counted(claim).items():
        if number in source_counted and not nouns & source_counted[number]:
            return f"„{number}“ bezieht sich in der Quelle auf etwas anderes"
    if extra := _rates(claim) - _rates(sentence or clause):
        return "Zeitraum weicht von der Quelle ab (" + ", ".join(sorted(extra)) + ")"
    mine, theirs = _comparators(claim), _comparators(clause)
    for a, b in _OPPOSITES:
        for word, other in ((a, b), (b, a)):
            if word in mine and other in theirs and word not in theirs:
                return f"„{word}“ statt „{other}“ wie in der Quelle"
    if polarity(claim) != polarity(clause):
        return "Verneinung weicht von der Quelle ab"
    return _month_part_mismatch(claim, clause)


def claim_mismatch(claim: str, source: str) -> str | None:
    """Check every clause of the claim against its own aligned source clause."""
    for part in clauses(claim) or [claim]:
        if not _words(part) and not quantities(part):
            continue
        aligned = align(part, source)
        if aligned is None:
            return "keine Quellenstelle"
        if reason := clause_mismatch(part, *aligned):
            return reason
    return None


def answer_mismatch(short_answer: str, question: str, source: str) -> str | None:
    """A short answer ("Ja, das ist zulässig.", "Nein.") is a claim about the question: its polarity
    must be that of the source clause the question is about."""
    if not question.strip():
        return None
    # Compound parts too: "mündlich stellen" is about "mündliche Antragstellung".
    words = _words(question) | set(compound_parts(question)) | _words(short_answer)
    candidates = clauses(source)
    clause = max(candidates, key=lambda c: len(words & (_words(c) | set(compound_parts(c)))), default=None)
    if clause is None or not (_words(question) & _words(clause)):
        return None
    if polarity(short_answer) != polarity(clause):
        return "Ja/Nein widerspricht der Quelle"
    return None
