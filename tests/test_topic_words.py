"""The relevance gate's veto: uncommon nouns that no document of the collection uses."""

from __future__ import annotations

from kreiswissen.settings import RetrievalSettings
from rag.relevance_gate import assess
from rag.retrieval import Retrieved
from text.topic_words import absent, nouns, zipf


def test_nouns_are_the_capitalised_content_words() -> None:
    assert nouns("Wie hoch sind die Elternbeiträge für einen Kita-Platz?") == [
        "Elternbeiträge",
        "Kita",
        "Platz",
    ]
    assert nouns("was kostet ein carport") == []  # typed without capitals: no noun can be told apart


def test_a_compound_is_present_when_all_its_parts_are() -> None:
    index = {"gebraucht", "wag", "zulass"}
    assert absent("Zulassung eines Gebrauchtwagens", index.__contains__) == []
    assert absent("Zulassung eines Carports", index.__contains__) == ["Carports"]


def test_commonness_separates_everyday_words_from_topics() -> None:
    assert zipf("Weihnachten") > 3.0 > zipf("Fischereischein")


def test_gate_vetoes_only_uncommon_absent_nouns() -> None:
    r = RetrievalSettings()
    retrieved = Retrieved(sources=[], absent=["Carport", "Auto"])
    assert assess("Was kostet ein Carport für das Auto?", retrieved, r).foreign == ["Carport"]
    off = r.model_copy(update={"gate_max_zipf": 0.0})
    assert assess("Was kostet ein Carport für das Auto?", retrieved, off).foreign == []


def test_retrieval_reports_the_nouns_the_collection_never_uses(answer_service) -> None:
    found = answer_service.retrieve("Braucht ein Carport für den Gebrauchtwagen eine Zulassung?")
    assert found.absent == ["Carport"]  # "Gebrauchtwagen": its parts occur, "Zulassung" itself
