"""Sentence units of a chunk: sentences, list items and table rows, the smallest pieces that can be
quoted on their own. They are embedded at ingest (sentence-level evidence for ranking) and are what
the instant extract quotes, so both uses see the same boundaries."""

from __future__ import annotations

import re

from .german_text import split_sentences

MAX_UNIT = 420  # characters; longer sentences (flattened tables, endless lists) are cut at words
_MIN_UNIT = 30  # "(1)" or a lone heading fragment joins the unit after it
LIST_ITEM = re.compile(r"^(?:[•▪◦·\-–*]\s|\d{1,2}[.)]\s|[a-z]{1,2}\)\s)")


def wrap_words(text: str, size: int, cut_long_words: bool = False) -> list[str]:
    """`text` in lines of at most `size` characters, broken between words; a word longer than `size`
    stands alone on its line (cut to `size` with `cut_long_words`)."""
    if len(text) <= size:
        return [text]
    parts: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > size:
            parts.append(line)
            line = ""
        line = f"{line} {word}" if line else (word[:size] if cut_long_words else word)
    return [*parts, line] if line else parts


def split_units(text: str) -> list[str]:
    """Units of a chunk text in reading order. A table row or a short list item stays whole."""
    units: list[str] = []
    pending = ""
    for line in text.splitlines():
        line = " ".join(line.split())
        if not line:
            continue
        whole = " | " in line or (LIST_ITEM.match(line) is not None and len(line) <= MAX_UNIT)
        for piece in [line] if whole else [p for s in split_sentences(line) for p in wrap_words(s, MAX_UNIT)]:
            piece = f"{pending} {piece}" if pending else piece
            pending = ""
            if len(piece) < _MIN_UNIT and not whole:
                # "(1)" or "Anlage 3:" leads into what follows; "werden." ends what came before.
                if units and not piece.startswith("(") and not piece.endswith(":"):
                    units[-1] = f"{units[-1]} {piece}"
                else:
                    pending = piece
                continue
            units.append(piece)
    if pending:
        if units:
            units[-1] = f"{units[-1]} {pending}"
        else:
            units.append(pending)
    return units


def unit_offsets(text: str, units: list[str]) -> list[int | None]:
    """Where each unit of `text` (from `split_units`, in reading order) starts in it; None for one not
    found. Units collapse whitespace, so they are matched word by word."""
    words = list(re.finditer(r"\S+", text))
    flat = " ".join(m.group() for m in words)
    origin: list[int] = []  # offset in `text` of each character of `flat`
    for m in words:
        origin.extend(range(m.start(), m.end() + 1))  # + the space after it
    offsets: list[int | None] = []
    pos = 0
    for unit in units:
        at = flat.find(unit, pos)
        if at < 0:
            at = flat.find(unit)  # not after the previous unit: a repeated sentence, say
        offsets.append(origin[at] if at >= 0 else None)
        if at >= 0:
            pos = at + len(unit)
    return offsets


def continues_sentence(text: str, previous: str, in_list: bool) -> bool:
    """Whether `text` belongs to the sentence before it: a list item, anything after an introduction
    ending in ':', or, after list items, the words that close the sentence ("… 2. … 13 Wochen" + "vor
    Beginn der Elternzeit schriftlich verlangen."). The chunker keeps such a sentence in one chunk; the
    extract and the prompt quote it whole."""
    return bool(LIST_ITEM.match(text) or previous.rstrip().endswith(":") or (in_list and text[:1].islower()))
