"""Each loader on a real file of its format, from the shipped corpus."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from ingest.chunker import chunk_document
from ingest.loaders import LoadError, load_document
from kreiswissen.schema import Block, LoadedDocument
from tests.conftest import CORPUS, SHARED


def corpus_file(suffix: str) -> Path:
    files = sorted(CORPUS.glob(f"*{suffix}"))
    assert files, f"corpus/ has no {suffix} file"
    return files[0]


@pytest.mark.parametrize("suffix", [".pdf", ".docx", ".html", ".md", ".txt"])
def test_loader_reads_title_sections_and_text(suffix: str) -> None:
    doc = load_document(corpus_file(suffix))
    assert doc.title and doc.title != corpus_file(suffix).stem
    sections = {b.headings for b in doc.blocks if b.headings}
    assert len(sections) >= 3, f"expected several sections, got {sections}"
    text = " ".join(b.text for b in doc.blocks)
    assert len(text) > 2000
    assert any(ch in text for ch in "äöüßÄÖÜ"), "umlauts must survive loading"


def test_pdf_blocks_carry_page_numbers() -> None:
    doc = load_document(corpus_file(".pdf"))
    pages = {b.page for b in doc.blocks}
    assert doc.pages and doc.pages >= 3
    assert pages == set(range(1, doc.pages + 1))
    # page furniture ("Seite 2 von 4") is not part of the text
    assert not any("Seite 2 von" in b.text for b in doc.blocks)


def test_markdown_law_sections_follow_paragraphs() -> None:
    doc = load_document(SHARED / "corpus-public" / "brkg_2005.md")
    chunks = chunk_document(doc)
    sections = [c.section for c in chunks]
    assert any(s.startswith("§ 6 Tagegeld") for s in sections)
    tagegeld = next(c for c in chunks if c.section.startswith("§ 6"))
    assert "Tagegeld" in tagegeld.text
    assert doc.title == "Bundesreisekostengesetz (BRKG 2005)"


def test_a_sentence_stays_in_one_chunk_with_its_list() -> None:
    # Filler before the rule fills most of a chunk: packing item by item used to cut after "2. …" and
    # start the next chunk with the closing words ("vor Beginn … verlangen.").
    filler = " ".join(f"Satz {i} der Vorbemerkung hat keinen Bezug zur Frist." for i in range(16))
    text = (
        f"{filler}\n(1) Wer Elternzeit beanspruchen will, muss sie\n"
        "1. für den Zeitraum bis zum dritten Lebensjahr spätestens sieben Wochen und\n"
        "2. für den Zeitraum danach spätestens 13 Wochen\n"
        "vor Beginn der Elternzeit schriftlich vom Arbeitgeber verlangen. Ein neuer Satz folgt hier."
    )
    doc = LoadedDocument(path="beeg.md", title="BEEG", blocks=[Block(text, ("§ 16 Inanspruchnahme",))])
    chunks = chunk_document(doc, size=1000, minimum=100)
    rule = next(c for c in chunks if "sieben Wochen" in c.text)
    assert "(1) Wer Elternzeit" in rule.text and "13 Wochen" in rule.text
    assert "schriftlich vom Arbeitgeber verlangen." in rule.text
    assert not any(c.text.startswith(("vor Beginn", "2.")) for c in chunks)


def test_chunks_have_heading_path_page_and_stable_ids() -> None:
    path = corpus_file(".pdf")
    first = chunk_document(load_document(path))
    second = chunk_document(load_document(path))
    assert [c.id for c in first] == [c.id for c in second]
    assert len({c.id for c in first}) == len(first)
    assert all(c.page for c in first)
    assert all(c.section for c in first[1:])
    # a section split into several chunks is never cut mid-sentence
    for before, after in itertools.pairwise(first):
        if before.section == after.section:
            # a table row ("Art des Schriftguts: … | Aufbewahrungsfrist: …") is a paragraph of its own
            at_paragraph = (
                after.text.startswith("(") or after.text[:1] in "–-•" or " | " in after.text.splitlines()[0]
            )
            assert at_paragraph or before.text.rstrip()[-1] in ".:!?;", before.text[-80:]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("kaputt.pdf", b"%PDF-1.4\n1 0 obj garbage", "PDF"),
        ("leer.txt", b"", "keinen Text"),
        ("falsch.docx", b"this is not a zip archive", "DOCX"),
        ("binaer.txt", bytes(range(256)) * 10, "Binärdaten"),
    ],
)
def test_bad_files_raise_german_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoadError, match=reason):
        load_document(path)


def test_cp1252_text_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "alt.txt"
    path.write_bytes(
        "Gebührenordnung\n\n1 Gebühren\nDie Gebühr für die Zulassung beträgt 30 €.\n".encode("cp1252")
    )
    doc = load_document(path)
    assert doc.title == "Gebührenordnung"
    assert "Gebühr" in doc.blocks[0].text and "€" in doc.blocks[0].text
    assert doc.blocks[0].headings == ("1 Gebühren",)
