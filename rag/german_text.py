"""German text analysis for BM25: lower-casing, umlaut folding, stop words, Snowball stemming."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

_WORD = re.compile(r"[a-zäöüß0-9]+", re.I)
_FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
_STEMMER = Stemmer.Stemmer("german")

STOPWORDS = frozenset(
    """
    aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes auch auf
    aus bei beim bin bis bist da damit dann das dass dein deine dem den denn der des dessen dich die dies
    diese diesem diesen dieser dieses dir doch dort du durch ein eine einem einen einer eines er es etwas
    euch euer eure für gegen hab habe haben hat hatte hätte ich ihm ihn ihnen ihr ihre ihrem ihren ihrer
    ihres im in ist jede jedem jeden jeder jedes jener jetzt kann kein keine können könnte man mein meine
    mich mir mit muss musste nach nicht nichts noch nun nur ob oder ohne sehr sein seine sich sie sind so
    soll sollte sondern um und uns unser unter vom von vor war waren warum was weil welche welchem welchen
    welcher welches wenn wer werde werden wie wir wird wo wurde würde zu zum zur über bzw ggf z b
    gibt gilt brauche brauchen bekomme bekommt bekommen darf dürfen muss müssen mein meinem meiner wann wie
    welche viel viele lange
    """.split()
)


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _STEMMER.stemWord(word).translate(_FOLD)


def analyze(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    return [_stem(w) for w in _WORD.findall(text) if w not in STOPWORDS]
