"""A quoted sentence cites the page it stands on, also in a chunk that spans pages (issue 25): the
chunker records where pages begin in a chunk's text, the catalog keeps it, and the extract finds each
sentence's page. Checked on a real PDF against the gold pages of the PDF dev set."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from ingest.chunker import chunk_document
from ingest.loaders import load_document
from kreiswissen.schema import Answer, Chunk, Extract, Source
from rag.extract import load_units, pick_extract, score_units
from store.catalog import MIGRATIONS, Catalog, FileRecord
from store.sqlite_db import SQLiteDB
from text.sentence_units import split_units, unit_offsets
from ui.render import answer_markdown, extract_markdown, sources_html

PDFS = Path(__file__).parents[1].parent / "shared" / "pdfs-dev"

pytestmark = pytest.mark.skipif(not (PDFS / "questions.jsonl").exists(), reason="shared PDF dev set missing")


@cache
def _chunks(doc: str) -> list[Chunk]:
    return chunk_document(load_document(PDFS / f"{doc}.pdf"))


@dataclass(frozen=True)
class Gold:
    question: dict
    chunk: Chunk
    unit: str
    page: int | None  # as found: where the unit stands in its chunk


@cache
def _gold_in_spanning_chunks() -> list[Gold]:
    """The dev set's gold evidence sentences that stand in a chunk spanning pages."""
    found = []
    for line in (PDFS / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line) if line.strip() else {}
        if not q.get("doc") or not q.get("evidence") or not (PDFS / f"{q['doc']}.pdf").exists():
            continue
        evidence = " ".join(q["evidence"].split())
        for chunk in _chunks(q["doc"]):
            if chunk.page_starts:
                units = split_units(chunk.text)
                for unit, offset in zip(units, unit_offsets(chunk.text, units), strict=True):
                    if len(unit) >= 40 and (unit[:50] in evidence or evidence[:50] in unit):
                        page = chunk.page_at(offset) if offset is not None else None
                        found.append(Gold(q, chunk, unit, page))
    return found


def _after_first_page() -> Gold:
    return next(g for g in _gold_in_spanning_chunks() if g.page != g.chunk.page)


def test_every_gold_sentence_in_a_chunk_spanning_pages_gets_its_gold_page() -> None:
    gold = _gold_in_spanning_chunks()
    assert len(gold) >= 3
    assert all(g.page == g.question["page"] for g in gold), [
        (g.question["id"], g.page, g.unit[:40]) for g in gold if g.page != g.question["page"]
    ]
    assert any(g.page != g.chunk.page for g in gold)  # not only sentences on the chunk's first page


def test_a_chunk_records_where_its_pages_begin() -> None:
    chunks = [c for doc in {g.question["doc"] for g in _gold_in_spanning_chunks()} for c in _chunks(doc)]
    spanning = [c for c in chunks if c.page_starts]
    assert spanning and all(not c.page_starts for c in chunks if c.page == c.page_end)
    for c in spanning:
        assert c.page_starts[0] == (0, c.page) and c.page_starts[-1][1] == c.page_end
        assert c.page_at(0) == c.page and c.page_at(len(c.text) - 1) == c.page_end
        pages = [page for _, page in c.page_starts]
        assert pages == sorted(set(pages))
        # A page begins with a paragraph (or a sentence of one cut into pieces), right after the joiner.
        assert all(c.text[o - 1] in "\n " and not c.text[o].isspace() for o, _ in c.page_starts[1:])


def test_the_extract_cites_the_page_the_sentence_stands_on() -> None:
    gold = _after_first_page()
    question = gold.question["question"]
    source = Source(1, gold.chunk, 1.0)
    extract = pick_extract(score_units(question, None, load_units([source], {})))
    quoted = [e for e in extract.evidence if e.text == gold.unit]
    assert quoted and quoted[0].page == gold.question["page"] != gold.chunk.page

    # Quoting what stands on that page: the label cites it, not the chunk's first page.
    page = gold.question["page"]
    on_page = Extract([e for e in extract.evidence if e.page == page])
    rendered = extract_markdown(on_page, [source])
    assert f"S. {page})" in rendered and f"S. {gold.chunk.page})" not in rendered
    # The original opens where the best quoted sentence stands; the source list cites that page.
    answer = Answer(question, on_page.quoted(), [source], cited=[1], extract=on_page)
    assert f"#page={page}" in sources_html([source], question, answer)
    assert f"S. {page}" in answer_markdown(answer).split("**Quellen:**")[1]


def test_a_chunk_within_one_page_cites_its_page_as_before() -> None:
    gold = _after_first_page()
    chunk = next(c for c in _chunks(gold.question["doc"]) if c.page == c.page_end)
    source = Source(1, chunk, 1.0)
    extract = pick_extract(score_units(gold.question["question"], None, load_units([source], {})))
    assert extract.evidence and all(e.page is None for e in extract.evidence)
    assert f"S. {chunk.page})" in extract_markdown(extract, [source])


def test_the_catalog_keeps_page_starts_and_opens_an_index_written_before_them(tmp_path: Path) -> None:
    chunk = _after_first_page().chunk
    record = FileRecord(chunk.source_path, "abc", 1, 1.0, chunk.title, 1, 1.0)
    catalog = Catalog(tmp_path / "catalog.sqlite")
    catalog.replace_file("c", record, [chunk], ["t"])
    assert catalog.chunks("c", [chunk.id])[0].page_starts == chunk.page_starts

    # An index of the release before: its chunk rows have no page_starts column.
    old = SQLiteDB(tmp_path / "old.sqlite", MIGRATIONS[:6])
    old.conn.execute("INSERT INTO chunks VALUES ('c','id1','/a.pdf',0,'a','A','',3,4,'Text.','t')")
    old.conn.close()
    reopened = Catalog(tmp_path / "old.sqlite").chunks("c", ["id1"])[0]
    assert (reopened.page, reopened.page_end, reopened.page_starts) == (3, 4, [])
    assert reopened.page_at(3) == 3
