"""The words that name a question's topic, and whether German uses them commonly.

A question about a topic the documents never mention ("Carport", "Fischereischein") is unanswerable
however close its wording comes to some passage: the relevance gate refuses it when such a word occurs
nowhere in the collection. Only nouns count (German capitalises them; verbs and adjectives of everyday
phrasing — "geklaut", "dreiseitigen" — are often absent from documents that still answer), and only
uncommon ones: an everyday word ("Auto", "Weihnachten") is often just not the documents' wording.
Commonness is the word's Zipf frequency in German (wordfreq: log10 of occurrences per billion words;
"Mutter" 5.3, "Bargeld" 4.1, "Carport" 2.7, "Fischereischein" 1.6).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from .german_text import analyze, compound_parts

_NOUN = re.compile(r"\b[A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜa-zäöüß]+)*")


def nouns(question: str) -> list[str]:
    """Capitalised content words of the question, hyphenated ones split ("Kita-Platz" → Kita, Platz).
    Empty for a question typed without capitals: there nouns cannot be told apart."""
    found: list[str] = []
    for word in _NOUN.findall(question):
        found += [piece for piece in word.split("-") if piece[:1].isupper() and analyze(piece)]
    return list(dict.fromkeys(found))


def absent(question: str, occurs: Callable[[str], bool]) -> list[str]:
    """The question's nouns that occur nowhere (per `occurs`, which is asked for index terms): neither
    the word's stem nor all its compound parts ("Gebrauchtwagen" is present where "gebraucht" and
    "wagen" are)."""
    missing = []
    for noun in nouns(question):
        if occurs(analyze(noun)[0]):
            continue
        parts = compound_parts(noun)
        if parts and all(occurs(p) for p in parts):
            continue
        missing.append(noun)
    return missing


@lru_cache(maxsize=4096)
def zipf(word: str) -> float:
    """Zipf frequency of the word in German (0 for words wordfreq does not know)."""
    from wordfreq import zipf_frequency  # its German word list loads on first use (~1 s)

    return zipf_frequency(word, "de")
