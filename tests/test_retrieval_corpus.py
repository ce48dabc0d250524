"""The shipped corpus and its 15 test questions: the right document is in the top 5."""

from __future__ import annotations

from tests.conftest import DATA, load_jsonl


def test_right_document_in_top5_for_13_of_15(answer_service) -> None:
    questions = load_jsonl(DATA / "corpus_questions.jsonl")
    assert len(questions) >= 15
    misses = []
    for q in questions:
        retrieved = answer_service.retrieve(q["question"], top_k=5)
        docs = [s.chunk.doc_id for s in retrieved.sources]
        if q["doc"] not in docs:
            misses.append((q["question"], q["doc"], docs))
    assert len(questions) - len(misses) >= 13, misses


def test_sources_carry_title_section_and_page(answer_service) -> None:
    retrieved = answer_service.retrieve(
        "Welche Unterlagen brauche ich für die Zulassung eines Gebrauchtwagens?"
    )
    assert retrieved.sources
    for s in retrieved.sources:
        assert s.chunk.title and s.chunk.source_path
    pdf_sources = [s for s in retrieved.sources if s.chunk.source_path.endswith(".pdf")]
    assert all(s.chunk.page for s in pdf_sources)
