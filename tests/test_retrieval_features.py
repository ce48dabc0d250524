"""Legal references, retrieval modes and the second stage, on a real index of two laws."""

from __future__ import annotations

import shutil

import pytest

from ingest.service import IngestService
from rag.answer_service import AnswerService
from rag.legal_refs import find_refs, law_matches
from tests.conftest import SHARED, make_settings


def test_legal_references_are_parsed() -> None:
    assert [(r.section, r.law) for r in find_refs("Was regelt § 6 FZV?")] == [("§ 6", "FZV")]
    assert [(r.section, r.law) for r in find_refs("Paragraph 17 BMG Abs. 1")] == [("§ 17", "BMG")]
    assert [(r.section, r.law) for r in find_refs("nach § 3a Abs. 2 des KraftStG")] == [("§ 3a", "KraftStG")]
    assert [(r.section, r.law) for r in find_refs("§ 20 SGB II")] == [("§ 20", "SGB II")]
    assert find_refs("Wie hoch ist das Tagegeld?") == []
    assert law_matches("SGB II", "sgb_2", "Sozialgesetzbuch Zweites Buch")
    assert law_matches("FZV", "fzv_2011", "Verordnung über die Zulassung von Fahrzeugen (FZV 2011)")
    assert not law_matches("BMG", "fzv_2011", "Verordnung über die Zulassung von Fahrzeugen (FZV 2011)")


@pytest.fixture(scope="module")
def laws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("laws")
    for name in ("bmg.md", "brkg_2005.md"):
        shutil.copy(SHARED / "corpus-public" / name, folder)
    settings = make_settings(tmp_path_factory.mktemp("laws-index"))
    IngestService(settings).ingest([folder])
    return settings


def test_legal_reference_goes_straight_to_the_section(laws) -> None:
    service = AnswerService(laws)
    first = service.retrieve("Was steht in Paragraph 22 BMG?").sources[0]
    assert first.chunk.doc_id == "bmg" and first.chunk.section.split(" › ")[-1].startswith("§ 22 ")
    # without a law name, § 6 exists in both laws: nothing is pinned, ranking decides
    assert service.retriever()._legal_ref_hits("Was steht in § 6?") == []


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_each_retrieval_mode_finds_the_tagegeld_section(laws, mode: str) -> None:
    settings = laws.model_copy(update={"retrieval": laws.retrieval.model_copy(update={"mode": mode})})
    retrieved = AnswerService(settings).retrieve("Wie hoch ist das Tagegeld bei einer Dienstreise?")
    sections = [s.chunk.section for s in retrieved.sources]
    assert any(s.startswith("§ 6 Tagegeld") for s in sections[:3]), sections
    assert (retrieved.dense != {}) == (mode != "bm25")
    assert (retrieved.bm25 != {}) == (mode != "dense")
