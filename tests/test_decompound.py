"""German compound splitting in the BM25 leg: real analyzer, real catalog (SQLite FTS5)."""

from __future__ import annotations

from pathlib import Path

from kreiswissen.schema import Chunk
from rag.retrieval import BM25Retriever
from store.catalog import Catalog, FileRecord
from text.german_text import analyze, compound_parts


def test_compounds_share_their_parts() -> None:
    assert "gebraucht" in set(compound_parts("Gebrauchtwagens")) & set(compound_parts("Gebrauchtfahrzeugen"))
    assert "personalausweis" in compound_parts("Personalausweisbehörde")
    assert "zulass" in compound_parts("Zulassungsbehörde")  # Fugen-s and stem: "Zulassung"
    # words that are no compounds stay whole; the stems themselves are unchanged
    assert compound_parts("Antrag Behörde Zulassung Wohnung Studium insbesondere tatsächliche") == []
    assert analyze("Gebrauchtwagens") == ["gebrauchtwag"]
    assert compound_parts("Gebrauchtwagens") == compound_parts("Gebrauchtwagens")  # deterministic


def _chunk(n: int, section: str, text: str) -> Chunk:
    return Chunk(
        id=f"c{n}", text=text, doc_id="handbuch", title="Handbuch Kfz-Zulassungsstelle", section=section,
        source_path="/h.md", page=None, page_end=None, position=n,
    )  # fmt: skip


def _catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(tmp_path / "catalog.sqlite")
    # the two sections of corpus/handbuch-kfz-zulassung.pdf that the example confuses
    chunks = [
        _chunk(0, "2 Neuzulassung › 2.1 Erforderliche Unterlagen bei Neufahrzeugen", "Für die erstmalige "
               "Zulassung eines fabrikneuen Fahrzeugs sind vorzulegen: Zulassungsbescheinigung Teil II, "
               "eVB-Nummer der Kfz-Haftpflichtversicherung, gültiger Personalausweis oder Reisepass."),
        _chunk(1, "3 Umschreibung von Gebrauchtfahrzeugen › 3.1 Erforderliche Unterlagen bei Halterwechsel",
               "Wird ein bereits zugelassenes Gebrauchtfahrzeug auf eine neue Halterin oder einen neuen "
               "Halter umgeschrieben, sind vorzulegen: Zulassungsbescheinigung Teil I und Teil II, "
               "eVB-Nummer der neuen Versicherung, gültiger Personalausweis oder Reisepass."),
        _chunk(2, "4 Ausweise", "Die Ausweisstelle stellt vorläufige Personalausweise aus."),
        _chunk(3, "5 Gebühren", "Die Gebühren richten sich nach der Gebührenordnung."),
    ]  # fmt: skip
    record = FileRecord("/h.md", "x", 1, 1.0, "Handbuch Zulassung", len(chunks), 1.0)
    tokens = [" ".join(analyze(f"{c.heading_line}\n{c.text}")) for c in chunks]
    catalog.replace_file("c", record, chunks, tokens)
    return catalog


def test_decompounding_finds_the_used_car_section(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    question = "Welche Unterlagen brauche ich für die Zulassung eines Gebrauchtwagens?"
    on = [n.node.node_id for n in BM25Retriever(catalog, "c", 5, decompound=True).retrieve(question)]
    off = [n.node.node_id for n in BM25Retriever(catalog, "c", 5, decompound=False).retrieve(question)]
    assert on[0] == "c1", on
    assert off[0] == "c0", off  # without the parts "Zulassung" decides, and 2.1 has more of it
    question = "Wo sitzt die Personalausweisbehörde?"
    on = [n.node.node_id for n in BM25Retriever(catalog, "c", 5, decompound=True).retrieve(question)]
    assert set(on) == {"c0", "c1", "c2"}, on  # all that mention "Personalausweis"
    assert BM25Retriever(catalog, "c", 5, decompound=False).retrieve(question) == []


def test_many_first_questions_at_once_load_the_splitter_table_once(monkeypatch) -> None:
    """20 questions at a fresh server each parsed split_words' n-gram table (seconds each, under the
    GIL): every extract came after 18 s. Loaded once, under a lock, by whoever comes first."""
    import json
    import threading

    import split_words.splitter as sw

    from text import german_text

    loads = []
    real_load = json.load

    def counting_load(f, *args, **kwargs):
        loads.append(f.name)
        return real_load(f, *args, **kwargs)

    monkeypatch.setattr(sw, "ngram_probs", None)
    monkeypatch.setattr(sw.json, "load", counting_load)
    german_text._load_splitter.cache_clear()
    threads = [threading.Thread(target=german_text.load_splitter) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1
    assert german_text.load_splitter().split_compound("Gebrauchtwagen")[0][1:] == ("Gebraucht", "Wagen")
