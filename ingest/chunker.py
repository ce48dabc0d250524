"""Structure-aware chunking: one chunk per section where it fits, long sections split on
numbered paragraphs "(1)", "(2)", then on sentences; never mid-sentence."""

from __future__ import annotations

import hashlib
import re
from functools import reduce
from itertools import groupby
from pathlib import Path

from kreiswissen.schema import Block, Chunk, LoadedDocument
from text.german_text import split_sentences
from text.sentence_units import LIST_ITEM, continues_sentence, wrap_words

_NEW_PARAGRAPH = re.compile(r"^(\(\d+[a-z]?\)|[•▪◦·\-–*]\s|\d+[.)]\s|[a-z]\)\s)")


def _paragraphs(blocks: list[Block]) -> list[tuple[str, int | None]]:
    """Re-flow hard-wrapped lines into paragraphs, each with the page it starts on."""
    out: list[tuple[str, int | None]] = []
    for block in blocks:
        current: list[str] = []
        for line in [*block.text.splitlines(), ""]:
            line = line.strip()
            # A blank line, a table row, a list item or "(2)" ends the paragraph before it.
            if current and (not line or " | " in line or _NEW_PARAGRAPH.match(line)):
                out.append((" ".join(current), block.page))
                current = []
            if " | " in line:
                out.append((line, block.page))
            elif line:
                current.append(line)
    return out


# A piece of chunk text with where each of its pages begins: (offset in the text, page), the first
# at 0. A paragraph stands on one page (it comes from one block); pieces joined into one text may not.
PageStarts = tuple[tuple[int, int | None], ...]
Piece = tuple[str, PageStarts]


def _join(first: Piece, joiner: str, second: Piece) -> Piece:
    text = f"{first[0]}{joiner}{second[0]}"
    shift = len(first[0]) + len(joiner)
    starts = list(first[1])
    for offset, page in second[1]:
        if page != starts[-1][1]:
            starts.append((offset + shift, page))
    return text, tuple(starts)


def _pack(pieces: list[Piece], size: int, joiner: str) -> list[Piece]:
    """Greedily pack pieces into chunks of at most `size` characters (a single piece may exceed it)."""
    chunks: list[Piece] = []
    current: Piece | None = None
    for piece in pieces:
        if current and len(current[0]) + len(joiner) + len(piece[0]) > size:
            chunks.append(current)
            current = None
        current = _join(current, joiner, piece) if current else piece
    if current:
        chunks.append(current)
    return chunks


def _paragraph_pieces(para: str, page: int | None, size: int) -> list[Piece]:
    if len(para) <= size:
        return [(para, ((0, page),))]
    # A 'sentence' longer than a chunk (tables flattened to one line, lists without stops) is cut at
    # words.
    sentences = [part for s in split_sentences(para) for part in wrap_words(s, size, cut_long_words=True)]
    return _pack([(s, ((0, page),)) for s in sentences], size, " ")


def _sentence_groups(paragraphs: list[tuple[str, int | None]]) -> list[list[tuple[str, int | None]]]:
    groups: list[list[tuple[str, int | None]]] = []
    for para, page in paragraphs:
        in_list = bool(groups) and any(LIST_ITEM.match(p) for p, _ in groups[-1])
        if not groups or not continues_sentence(para, groups[-1][-1][0], in_list):
            groups.append([(para, page)])
        elif para[:1].islower():
            # Only the closing words end the sentence; what follows them starts anew.
            first, *rest = split_sentences(para)
            groups[-1].append((first, page))
            if rest:
                groups.append([(" ".join(rest), page)])
        else:
            groups[-1].append((para, page))
    return groups


def _split_section(blocks: list[Block], size: int, minimum: int) -> list[Piece]:
    pieces: list[Piece] = []
    # A sentence with its list stays in one chunk where it fits: a chunk that starts with "2. …" or
    # "… schriftlich verlangen." answers nothing on its own.
    for group in _sentence_groups(_paragraphs(blocks)):
        if len(group) > 1 and sum(len(p) + 1 for p, _ in group) <= size:
            pieces.append(reduce(lambda a, b: _join(a, "\n", b), [(p, ((0, page),)) for p, page in group]))
            continue
        for para, page in group:
            pieces.extend(_paragraph_pieces(para, page, size))
    chunks = _pack(pieces, size, "\n")
    # A short tail reads better with its predecessor than alone.
    if (
        len(chunks) > 1
        and len(chunks[-1][0]) < minimum
        and len(chunks[-2][0]) + len(chunks[-1][0]) < size * 1.3
    ):
        tail = chunks.pop()
        chunks[-1] = _join(chunks[-1], "\n", tail)
    return chunks


def chunk_id(source_path: str, position: int, text: str) -> str:
    content = hashlib.sha256(text.encode()).hexdigest()
    return hashlib.sha256(f"{source_path}|{position}|{content}".encode()).hexdigest()[:32]


def chunk_document(doc: LoadedDocument, size: int = 1200, minimum: int = 200) -> list[Chunk]:
    chunks: list[Chunk] = []
    doc_id = Path(doc.path).stem
    for headings, group in groupby(doc.blocks, key=lambda b: b.headings):
        for text, starts in _split_section(list(group), size, minimum):
            position = len(chunks)
            # Only a chunk spanning pages records where they begin (a page of None: no page numbers).
            page_starts = [(o, p) for o, p in starts if p is not None] if len(starts) > 1 else []
            chunks.append(
                Chunk(
                    id=chunk_id(doc.path, position, text),
                    text=text,
                    doc_id=doc_id,
                    title=doc.title,
                    section=" › ".join(headings),
                    source_path=doc.path,
                    page=starts[0][1],
                    page_end=starts[-1][1],
                    position=position,
                    page_starts=page_starts,
                )
            )
    return chunks
