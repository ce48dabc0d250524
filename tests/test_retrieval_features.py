"""Legal references, retrieval modes and the second stage, on a real index of two laws."""

from __future__ import annotations

import pytest

from rag.answer_service import AnswerService
from tests.conftest import SHARED, indexed
from text.legal_refs import find_refs, law_matches

# (question, what the reader must find) — the cases first; the regex gets 6 of 15 right,
# bundesrecht all 15 (measured with test_bundesrecht_reads_what_the_regex_misses)
LEGAL_CASES = [
    ("Was regelt Art. 6 DSGVO?", [("Art. 6", "DSGVO")]),
    ("Was steht in §§ 6 und 7 FZV?", [("§ 6", "FZV"), ("§ 7", "FZV")]),
    ("Was sagt § 6 Abs. 1 S. 2 FZV?", [("§ 6", "FZV")]),
    ("Was regelt § 17 Bundesmeldegesetz?", [("§ 17", "Bundesmeldegesetz")]),
    ("Was steht in § 6 FZV?", [("§ 6", "FZV")]),
    ("Paragraph 17 BMG Abs. 1", [("§ 17", "BMG")]),
    ("nach § 3a Abs. 2 des KraftStG", [("§ 3a", "KraftStG")]),
    ("§ 20 SGB II", [("§ 20", "SGB 2")]),
    ("Wann gilt § 31 SGB X?", [("§ 31", "SGB 10")]),
    ("§§ 12-14 BGB", [("§ 12", "BGB"), ("§ 13", "BGB"), ("§ 14", "BGB")]),
    ("§ 312 i.V.m. § 355 BGB", [("§ 312", "BGB"), ("§ 355", "BGB")]),
    ("§ 34 Absatz 1 Satz 1 oder § 35 SGB X", [("§ 34", "SGB 10"), ("§ 35", "SGB 10")]),
    ("Was sagt Artikel 6 Absatz 1 Buchstabe e DSGVO?", [("Art. 6", "DSGVO")]),
    ("Muss ich nach § 17 des Bundesmeldegesetzes umziehen?", [("§ 17", "Bundesmeldegesetzes")]),
    ("Wie hoch ist das Tagegeld?", []),
]


def _score(parser: str) -> int:
    def norm(law: str | None) -> str | None:
        return law and law.replace("SGB II", "SGB 2").replace("SGB X", "SGB 10")

    return sum([(r.section, norm(r.law)) for r in find_refs(q, parser)] == want for q, want in LEGAL_CASES)


def test_bundesrecht_reads_what_the_regex_misses() -> None:
    assert _score("bundesrecht") == len(LEGAL_CASES)
    assert _score("regex") == 6  # the earlier reader, kept as the setting legal_parser="regex"


def laws_section(retriever, chunk_id: str) -> str:
    chunk = retriever.store.catalog.chunks(retriever.key, [chunk_id])[0]
    return " ".join(chunk.section.split(" › ")[-1].split()[:2])


def test_legal_references_are_parsed() -> None:
    assert [(r.section, r.law) for r in find_refs("Was regelt § 6 FZV?")] == [("§ 6", "FZV")]
    assert [(r.section, r.law) for r in find_refs("Paragraph 17 BMG Abs. 1")] == [("§ 17", "BMG")]
    assert [(r.section, r.law) for r in find_refs("nach § 3a Abs. 2 des KraftStG")] == [("§ 3a", "KraftStG")]
    assert [(r.section, r.law) for r in find_refs("§ 20 SGB II")] == [("§ 20", "SGB 2")]
    assert find_refs("Wie hoch ist das Tagegeld?") == []
    assert law_matches("SGB II", "sgb_2", "Sozialgesetzbuch Zweites Buch")
    assert law_matches("FZV", "fzv_2011", "Verordnung über die Zulassung von Fahrzeugen (FZV 2011)")
    assert not law_matches("BMG", "fzv_2011", "Verordnung über die Zulassung von Fahrzeugen (FZV 2011)")


@pytest.fixture(scope="module")
def laws(tmp_path_factory):
    # two short laws (the tests run a second time against a Chroma server, which embeds them again)
    laws = [SHARED / "corpus-public" / name for name in ("ifg.md", "brkg_2005.md")]
    return indexed(tmp_path_factory.mktemp("laws-index") / "data", laws)


def test_legal_reference_goes_straight_to_the_section(laws) -> None:
    service = AnswerService(laws)
    first = service.retrieve("Was steht in Paragraph 9 IFG?").sources[0]
    assert first.chunk.doc_id == "ifg" and first.chunk.section.split(" › ")[-1].startswith("§ 9 ")
    # without a law name, § 6 exists in both laws: nothing is pinned, ranking decides
    retriever = service.retriever()
    assert retriever._legal_ref_hits("Was steht in § 6?", retriever.key) == []
    # the parser reads lists and full law names; the earlier regex pinned only "§ 4" (no law: ambiguous)
    hits = retriever._legal_ref_hits("Was regeln §§ 4 und 5 Bundesreisekostengesetz?", retriever.key)
    sections = {laws_section(retriever, cid) for cid in hits}
    assert {"§ 4", "§ 5"} <= sections, sections
    assert {retriever.store.catalog.chunks(retriever.key, [cid])[0].doc_id for cid in hits} == {"brkg_2005"}


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_each_retrieval_mode_finds_the_tagegeld_section(laws, mode: str) -> None:
    settings = laws.model_copy(update={"retrieval": laws.retrieval.model_copy(update={"mode": mode})})
    retrieved = AnswerService(settings).retrieve("Wie hoch ist das Tagegeld bei einer Dienstreise?")
    sections = [s.chunk.section for s in retrieved.sources]
    assert any(s.startswith("§ 6 Tagegeld") for s in sections[:3]), sections
    assert (retrieved.dense != {}) == (mode != "bm25")
    assert (retrieved.bm25 != {}) == (mode != "dense")


TRANSITIONAL_LAW = """# Wohngeldgesetz (Auszug)

## § 1 Zweck des Wohngeldes

(1) Das Wohngeld dient der wirtschaftlichen Sicherung angemessenen und familiengerechten Wohnens.

## § 25 Bewilligungszeitraum

(1) Das Wohngeld soll für einen Bewilligungszeitraum von zwölf Monaten bewilligt werden.

## § 26 Zahlung des Wohngeldes

(1) Das Wohngeld wird an die wohngeldberechtigte Person monatlich im Voraus gezahlt.

## § 27 Änderung des Wohngeldes

(1) Das Wohngeld ist neu zu bewilligen, wenn sich die Zahl der Haushaltsmitglieder ändert.

## § 42a Übergangsregelung aus Anlass der Reform des Wohngeldrechts

(1) Ist Wohngeld vor dem 1. Januar 2016 bewilligt worden und liegt mindestens ein Teil des
Bewilligungszeitraums nach dem 31. Dezember 2015, so ist über das Wohngeld für den Zeitraum bis zum
Ende des bisherigen Bewilligungszeitraums neu zu entscheiden.
"""


@pytest.fixture(scope="module")
def transitional(tmp_path_factory):
    folder = tmp_path_factory.mktemp("transitional-docs")
    (folder / "wogg_auszug.md").write_text(TRANSITIONAL_LAW, encoding="utf-8")
    return indexed(tmp_path_factory.mktemp("transitional-index") / "data", [folder])


def test_transitional_provisions_yield_to_the_operative_rule(transitional) -> None:
    def first(question: str, penalty: float) -> str:
        retrieval = transitional.retrieval.model_copy(update={"transitional_penalty": penalty})
        service = AnswerService(transitional.model_copy(update={"retrieval": retrieval}))
        return service.retrieve(question).sources[0].chunk.section

    question = "Für welchen Zeitraum wird Wohngeld bewilligt?"
    assert first(question, 0.0).startswith("§ 42a")  # the changeover rule repeats the question's words
    assert first(question, 0.1).startswith("§ 25")
    # a question about the changeover still gets it
    assert first("Was gilt für Wohngeld, das vor 2016 bewilligt wurde?", 0.1).startswith("§ 42a")
