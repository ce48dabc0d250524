"""Follow-up questions ("Und was kostet das?"): decided by retrieval, never by splicing words.

The user's question is never rewritten: spliced questions read wrong ("Wie hoch ist die Zulassung eines
Gebrauchtwagens tagegeld?"). A question may be a follow-up only when it cannot stand alone — it opens
with a clear anaphor ("Und …", "Was kostet das?", "dafür") or retrieval finds no clear match for it —
and then the previous question with it is searched as a second query; the answer service keeps
whichever retrieves better and tells the user which earlier question it took into account.
"""

from __future__ import annotations

import re

_NOUN = re.compile(r"\b[A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜ]?[a-zäöüß]+)*\b")
_QUESTION_WORDS = {"Wer", "Was", "Wie", "Wann", "Wo", "Welche", "Welcher", "Welches", "Warum", "Wieso",
                   "Muss", "Kann", "Darf", "Gibt", "Ist", "Sind", "Bis", "Ab", "Und", "Woher", "Wozu"}  # fmt: skip
_FOLLOWUP_START = re.compile(r"^\s*(und|aber|also|auch|was ist mit|wie ist es mit|gilt das)\b", re.I)
# Words that point back to the earlier question ("Wer ist dafür zuständig?").
_ANAPHORA = ("dafür", "hierfür", "dazu", "hierzu", "davon", "darüber")


def _nouns(text: str) -> list[str]:
    return [w for w in _NOUN.findall(text) if w not in _QUESTION_WORDS]


# A pronoun that ends the question points back ("Was kostet das?", "Wer bearbeitet sie?"); "das" before
# a noun or a relative clause ("ein Formular, das online …") does not.
_ENDS_WITH_PRONOUN = re.compile(r"\b(?:das|dies|dieses|es|sie|ihn|ihm|ihr)\s*[?.!]*\s*$", re.I)
_IT = re.compile(r"\b(?:es|sie|ihn|ihm|ihr)\b", re.I)


def is_followup(question: str) -> bool:
    """A clear anaphor: the question opens with "und"/"was ist mit", refers back with "dafür"/"dazu",
    ends with a pronoun, or has no subject of its own. A short question with its
    own subject ("Was kostet ein Reisepass?") is a new question."""
    if _FOLLOWUP_START.match(question):
        return True
    if any(re.search(rf"\b{word}\b", question, re.I) for word in _ANAPHORA):
        return True
    if _ENDS_WITH_PRONOUN.search(question):
        return True
    return not _nouns(question) and bool(_IT.search(question) or len(question.split()) <= 4)


def with_previous(question: str, previous: str) -> str:
    """The second query: the earlier question, then this one, both as the user typed them."""
    return f"{' '.join(previous.split())} {' '.join(question.split())}"
