"""Check that every key fact of a question set occurs in the gold section of its gold document.

    .venv/bin/python -m eval.check_key_facts eval/corpus_eval.jsonl corpus

The documents are loaded and chunked with the project's own loaders and chunker (any format the
index takes: PDF, DOCX, HTML, Markdown, text …); the gold section's text is that of the chunks of the
gold document whose heading path matches the gold section (eval.metrics.section_matches), and facts
are compared with text.facts.contains_fact — the same normalisation the eval metrics use. Exit status
1 when a fact is missing, an answerable question has no key facts, or an unanswerable one has some;
questions marked as gold-section mistakes ("answer": null, "key_facts": []) are skipped.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ingest.chunker import chunk_document
from ingest.loaders import SUPPORTED_SUFFIXES, load_document
from kreiswissen.schema import Chunk
from kreiswissen.settings import get_settings
from text.facts import contains_fact

from .metrics import section_matches
from .runner import load_questions


def load_chunks(corpus: Path) -> dict[str, list[Chunk]]:
    """doc id (file stem) → its chunks, as the index would hold them."""
    r = get_settings().retrieval
    out: dict[str, list[Chunk]] = {}
    for path in sorted(corpus.rglob("*")):
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES:
            chunks = chunk_document(load_document(path), size=r.chunk_size, minimum=r.chunk_min)
            out.setdefault(path.stem, []).extend(chunks)
    return out


def gold_text(chunks: list[Chunk], section: str) -> str:
    return "\n\n".join(f"{c.section}\n{c.text}" for c in chunks if section_matches(section, c.section))


def check(questions: list[dict], chunks: dict[str, list[Chunk]]) -> tuple[list[str], int, int]:
    """(failures, facts checked, facts found)."""
    failures: list[str] = []
    checked = found = 0
    for q in questions:
        facts = q.get("key_facts")
        where = f"{q['id']} ({q.get('doc')} {q.get('section')})"
        if not q["answerable"]:
            if facts:
                failures.append(f"{where}: nicht beantwortbar, hat aber key_facts {facts}")
            continue
        if facts == [] and "answer" in q and q["answer"] is None:
            continue  # marked as a gold-section mistake
        if not facts:
            failures.append(f"{where}: beantwortbar, aber ohne key_facts")
            continue
        text = gold_text(chunks.get(q.get("doc") or "", []), q.get("section") or "")
        if not text:
            failures.append(f"{where}: Abschnitt nicht gefunden")
            continue
        for fact in facts:
            checked += 1
            if contains_fact(text, fact):
                found += 1
            else:
                failures.append(f"{where}: Kernfakt fehlt im Abschnitt: {fact!r}")
    return failures, checked, found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("Aufruf: python -m eval.check_key_facts FRAGEN.jsonl KORPUS-ORDNER", file=sys.stderr)
        return 2
    questions, corpus = load_questions(Path(argv[0])), Path(argv[1])
    failures, checked, found = check(questions, load_chunks(corpus))
    print(f"Kernfakten: {found} / {checked} im Soll-Abschnitt gefunden ({len(questions)} Fragen).")
    for failure in failures:
        print(f"  FEHLER {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
