"""Follow-up questions ("Und was kostet das?") become standalone questions before retrieval.

Deterministic rules rather than the generator: the bundled 1.5B model rewrites unreliably and would
add seconds to every turn. The subject of the previous standalone question (its prepositional
phrase, "für die Zulassung eines Gebrauchtwagens") replaces the follow-up's pronoun ("das", "dafür").
"""

from __future__ import annotations

import re

_PREPOSITIONS = r"für|zur|zum|zu|bei|beim|über|von|vom|im|in|nach|wegen|gegen|an|am|auf|mit"
_SUBJECT = re.compile(
    rf"\b(?P<prep>{_PREPOSITIONS})\s+(?P<np>(?:(?:die|den|das|der|dem|des|eine[nmrs]?|ein|meine[nmrs]?|mein)\s+)?"
    r"[A-ZÄÖÜ][\wäöüß-]*(?:\s+(?:eines|einer|des|der|von|für|im|zur|zum)\s+[\wäöüß-]+)*)",
)
_NOUN = re.compile(r"\b[A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜ]?[a-zäöüß]+)*\b")
_QUESTION_WORDS = {"Wer", "Was", "Wie", "Wann", "Wo", "Welche", "Welcher", "Welches", "Warum", "Wieso",
                   "Muss", "Kann", "Darf", "Gibt", "Ist", "Sind", "Bis", "Ab", "Und", "Woher", "Wozu"}  # fmt: skip
_FOLLOWUP_START = re.compile(r"^\s*(und|aber|also|auch|was ist mit|wie ist es mit|gilt das)\b", re.I)
_LEADING_CONJUNCTION = re.compile(r"^\s*(und|aber|also)\b[\s,]*", re.I)
_ANAPHORA = {
    "dafür": "für",
    "hierfür": "für",
    "dazu": "zu",
    "hierzu": "zu",
    "davon": "von",
    "darüber": "über",
    "dabei": "bei",
    "damit": "mit",
}
_PRONOUN = re.compile(r"\b(das|es|dies|diese|diesen|dieser|dieses)\b(?=\s*[?.!]?\s*$|\s+\w+\s*[?.!]?\s*$)")


def _nouns(text: str) -> list[str]:
    return [w for w in _NOUN.findall(text) if w not in _QUESTION_WORDS]


# "das"/"dies" used as a pronoun: not followed by a noun ("Was kostet das?", but not "das Tagegeld").
_DEMONSTRATIVE = re.compile(r"\b(?:das|dies|dieses)\b(?!\s+(?:[a-zäöüß]+\s+)?[A-ZÄÖÜ])")
_IT = re.compile(r"\b(?:es|sie|ihn|ihm|ihr)\b", re.I)


def is_followup(question: str) -> bool:
    """Only a question that cannot stand alone: it opens with "und"/"was ist mit", refers back with
    "dafür"/"dazu" or a demonstrative pronoun, or has no subject of its own. A short question with its
    own subject ("Was kostet ein Reisepass?") is a new question."""
    if _FOLLOWUP_START.match(question):
        return True
    if any(re.search(rf"\b{word}\b", question, re.I) for word in _ANAPHORA):
        return True
    if _DEMONSTRATIVE.search(question):
        return True
    return not _nouns(question) and bool(_IT.search(question) or len(question.split()) <= 4)


def subject_of(question: str) -> tuple[str, str] | None:
    """(preposition, noun phrase) of a question: ('für', 'die Zulassung eines Gebrauchtwagens')."""
    matches = list(_SUBJECT.finditer(question))
    if matches:
        m = max(matches, key=lambda m: len(m["np"]))
        return m["prep"], m["np"].rstrip("?.! ")
    nouns = _nouns(question)
    return ("zu", " ".join(nouns)) if nouns else None


def rewrite(question: str, previous: list[str]) -> str | None:
    """A standalone version of `question`, or None when it needs no context (or there is none)."""
    question = " ".join(question.split())
    if not previous or not is_followup(question):
        return None
    subject = next((s for q in reversed(previous) if (s := subject_of(q))), None)
    if subject is None:
        return None
    prep, np = subject
    text = _LEADING_CONJUNCTION.sub("", question).strip(" ,") or question
    text = text[0].upper() + text[1:]
    for word, word_prep in _ANAPHORA.items():
        pattern = re.compile(rf"\b{word}\b", re.I)
        if pattern.search(text):
            return pattern.sub(f"{word_prep} {np}", text, count=1)
    if _PRONOUN.search(text):
        return _PRONOUN.sub(np, text, count=1)
    stripped = text.rstrip("?.! ")
    return f"{stripped} ({prep} {np})?"
