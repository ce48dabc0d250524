"""German text analysis for BM25: lower-casing, umlaut folding, stop words, Snowball stemming."""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import Stemmer

_WORD = re.compile(r"[a-zäöüß0-9]+", re.I)
_FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
_STEMMER = Stemmer.Stemmer("german")

STOPWORDS = frozenset(
    [
        "aber",
        "alle",
        "allem",
        "allen",
        "aller",
        "alles",
        "als",
        "also",
        "am",
        "an",
        "ander",
        "andere",
        "anderem",
        "anderen",
        "anderer",
        "anderes",
        "auch",
        "auf",
        "aus",
        "bei",
        "beim",
        "bin",
        "bis",
        "bist",
        "da",
        "damit",
        "dann",
        "das",
        "dass",
        "dein",
        "deine",
        "dem",
        "den",
        "denn",
        "der",
        "des",
        "dessen",
        "dich",
        "die",
        "dies",
        "diese",
        "diesem",
        "diesen",
        "dieser",
        "dieses",
        "dir",
        "doch",
        "dort",
        "du",
        "durch",
        "ein",
        "eine",
        "einem",
        "einen",
        "einer",
        "eines",
        "er",
        "es",
        "etwas",
        "euch",
        "euer",
        "eure",
        "für",
        "gegen",
        "hab",
        "habe",
        "haben",
        "hat",
        "hatte",
        "hätte",
        "ich",
        "ihm",
        "ihn",
        "ihnen",
        "ihr",
        "ihre",
        "ihrem",
        "ihren",
        "ihrer",
        "ihres",
        "im",
        "in",
        "ist",
        "jede",
        "jedem",
        "jeden",
        "jeder",
        "jedes",
        "jener",
        "jetzt",
        "kann",
        "kein",
        "keine",
        "können",
        "könnte",
        "man",
        "mein",
        "meine",
        "mich",
        "mir",
        "mit",
        "muss",
        "musste",
        "nach",
        "nicht",
        "nichts",
        "noch",
        "nun",
        "nur",
        "ob",
        "oder",
        "ohne",
        "sehr",
        "sein",
        "seine",
        "sich",
        "sie",
        "sind",
        "so",
        "soll",
        "sollte",
        "sondern",
        "um",
        "und",
        "uns",
        "unser",
        "unter",
        "vom",
        "von",
        "vor",
        "war",
        "waren",
        "warum",
        "was",
        "weil",
        "welche",
        "welchem",
        "welchen",
        "welcher",
        "welches",
        "wenn",
        "wer",
        "werde",
        "werden",
        "wie",
        "wir",
        "wird",
        "wo",
        "wurde",
        "würde",
        "zu",
        "zum",
        "zur",
        "über",
        "bzw",
        "ggf",
        "z",
        "b",
        "gibt",
        "gilt",
        "brauche",
        "brauchen",
        "bekomme",
        "bekommt",
        "bekommen",
        "darf",
        "dürfen",
        "muss",
        "müssen",
        "mein",
        "meinem",
        "meiner",
        "wann",
        "wie",
        "welche",
        "viel",
        "viele",
        "lange",
    ]
)


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _STEMMER.stemWord(word).translate(_FOLD)


def analyze(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    return [_stem(w) for w in _WORD.findall(text) if w not in STOPWORDS]


# Compound splitting. German glues nouns together ("Gebrauchtwagen", "Personalausweisbehörde"), so a
# question and the passage answering it often share a compound's parts but not the compound. The
# parts (stemmed like every other token) are indexed beside the stems. Splitter: CharSplit (Tuggener
# 2016, n-gram probabilities from German Wikipedia) as packaged by split-words; chosen over the
# dictionary parser of german-nouns, which splits only into nouns (so "Gebrauchtfahrzeug" loses
# "gebraucht") and mis-splits "Gebrauchtwagen" into "Wa"+"Gen". Both parts must have 4 letters and
# the split a CharSplit score above -0.7: below that it splits non-compounds ("Tats|ächliche").
# Bump ANALYZER_VERSION whenever analyze() or compound_parts() change what they produce: the catalog
# then rebuilds its BM25 index from the stored chunk texts.
ANALYZER_VERSION = 1
_MIN_PART = 4
_MIN_NESTED = 10
_MIN_SPLIT_SCORE = -0.7
_LETTERS = re.compile(r"[a-zäöüß]+")


_SPLITTER_LOCK = threading.Lock()


def load_splitter():
    """The compound splitter with its n-gram table loaded (a few seconds, ~350 MB): once, under a
    lock — split_words loads the table on its first split, in every thread that gets there first
    (20 questions at once each parsed the JSON: 18 s to the first extract)."""
    with _SPLITTER_LOCK:
        return _load_splitter()


@lru_cache(maxsize=1)
def _load_splitter():
    from split_words import Splitter
    from split_words.splitter import get_ngram_probs

    get_ngram_probs()
    return Splitter()


@lru_cache(maxsize=200_000)
def _split(word: str) -> tuple[str, ...]:
    """Lower-case surface parts of a compound, recursively ('personalausweisbehörde' →
    'personalausweis', 'behörde', 'personal', 'ausweis'); empty for words that are no compound."""
    if len(word) < 2 * _MIN_PART:
        return ()
    for score, head, tail in load_splitter().split_compound(word):
        if score <= _MIN_SPLIT_SCORE:
            return ()
        if len(head) >= _MIN_PART and len(tail) >= _MIN_PART:
            head, tail = head.lower(), tail.lower()
            # Only long parts are compounds themselves; short ones split into noise ("ausl|änder").
            inner = [p for p in (head, tail) if len(p) >= _MIN_NESTED]
            return (head, tail, *(q for p in inner for q in _split(p)))
    return ()


@lru_cache(maxsize=200_000)
def _part_stems(word: str) -> tuple[str, ...]:
    # Split the word and its stem: endings mislead the splitter ("Gebrauchtfahrz|eugen"), while the
    # stem alone hides some heads ("personalausweisbehörd").
    own = _stem(word)
    parts = (*_split(word), *_split(_STEMMER.stemWord(word)))
    stems = (_stem(p) for p in parts if p not in STOPWORDS)
    return tuple(dict.fromkeys(s for s in stems if s != own and len(s) >= 3))


def compound_parts(text: str) -> list[str]:
    """Stems of the parts of the compounds in `text`, for the BM25 index beside analyze()'s stems:
    'Gebrauchtwagens' → ['gebraucht', 'wag']. Deterministic; cached per word."""
    text = unicodedata.normalize("NFKC", text).lower()
    return [p for w in _LETTERS.findall(text) for p in _part_stems(w)]


_SENTENCE_GAP = re.compile(r"(?<=[.!?…])\s+(?=[A-ZÄÖÜ§„\"(\d\[])")
_ABBREVIATIONS = {
    "abs",
    "nr",
    "z",
    "b",
    "bzw",
    "ggf",
    "u",
    "a",
    "s",
    "art",
    "vgl",
    "d",
    "h",
    "i",
    "r",
    "ca",
    "dr",
    "str",
    "usw",
    "etc",
    "tel",
    "v",
    "m",
    "gem",
    "lit",
    "bzgl",
    "inkl",
    "zzgl",
    "max",
    "min",
    "mind",
    "evtl",
    "sog",
    "hs",
    "satz",
    "anl",
    "abschn",
    "kap",
    "ziff",
    "buchst",
    "bspw",
    "allg",
    "o",
}


def split_sentences(text: str) -> list[str]:
    parts = _SENTENCE_GAP.split(text)
    sentences: list[str] = []
    for part in parts:
        if sentences:
            prev_word = sentences[-1].rsplit(None, 1)[-1].rstrip(".").lower()
            # "z. B. Führerschein", "am 1. März", "§ 6 Abs. 2": not a sentence end.
            if prev_word in _ABBREVIATIONS or prev_word.isdigit() or len(prev_word) == 1:
                sentences[-1] = f"{sentences[-1]} {part}"
                continue
        sentences.append(part)
    return sentences
