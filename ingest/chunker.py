"""Structure-aware chunking: one chunk per section where it fits, long sections split on
numbered paragraphs "(1)", "(2)", then on sentences; never mid-sentence."""

from __future__ import annotations

import hashlib
import re
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


Piece = tuple[str, int | None, int | None]  # text, first page, last page


def _pack(pieces: list[Piece], size: int, joiner: str) -> list[Piece]:
    """Greedily pack pieces into chunks of at most `size` characters (a single piece may exceed it)."""
    chunks: list[Piece] = []
    text, first, last = "", None, None
    for piece, piece_first, piece_last in pieces:
        if text and len(text) + len(joiner) + len(piece) > size:
            chunks.append((text, first, last))
            text = ""
        if not text:
            text, first = piece, piece_first
        else:
            text = f"{text}{joiner}{piece}"
        last = piece_last
    if text:
        chunks.append((text, first, last))
    return chunks


def _paragraph_pieces(para: str, page: int | None, size: int) -> list[Piece]:
    if len(para) <= size:
        return [(para, page, page)]
    # A 'sentence' longer than a chunk (tables flattened to one line, lists without stops) is cut at
    # words.
    sentences = [part for s in split_sentences(para) for part in wrap_words(s, size, cut_long_words=True)]
    return _pack([(s, page, page) for s in sentences], size, " ")


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
            pieces.append(("\n".join(p for p, _ in group), group[0][1], group[-1][1]))
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
        chunks[-1] = (f"{chunks[-1][0]}\n{tail[0]}", chunks[-1][1], tail[2])
    return chunks


def chunk_id(source_path: str, position: int, text: str) -> str:
    content = hashlib.sha256(text.encode()).hexdigest()
    return hashlib.sha256(f"{source_path}|{position}|{content}".encode()).hexdigest()[:32]


def chunk_document(doc: LoadedDocument, size: int = 1200, minimum: int = 200) -> list[Chunk]:
    chunks: list[Chunk] = []
    doc_id = Path(doc.path).stem
    for headings, group in groupby(doc.blocks, key=lambda b: b.headings):
        for text, page, page_end in _split_section(list(group), size, minimum):
            position = len(chunks)
            chunks.append(
                Chunk(
                    id=chunk_id(doc.path, position, text),
                    text=text,
                    doc_id=doc_id,
                    title=doc.title,
                    section=" › ".join(headings),
                    source_path=doc.path,
                    page=page,
                    page_end=page_end,
                    position=position,
                )
            )
    return chunks
