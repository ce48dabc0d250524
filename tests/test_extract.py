"""The instant extract: sentence units, and on the project's own question set the quoted units come
from retrieved sources and contain the key facts."""

from __future__ import annotations

from conftest import ROOT, load_jsonl

from text.facts import contains_fact
from text.sentence_units import split_units


def test_units_keep_list_items_and_table_rows_whole_and_join_fragments() -> None:
    text = (
        "(1) Für die Umschreibung sind vorzulegen:\n"
        "- Zulassungsbescheinigung Teil I und Teil II\n"
        "- Nachweis der Haftpflichtversicherung (eVB-Nummer)\n"
        "Gebühr | 27,60 Euro\n"
        "Die Frist beträgt zwei Wochen. Sie beginnt mit dem Eingang. werden."
    )
    units = split_units(text)
    assert units[0] == "(1) Für die Umschreibung sind vorzulegen:"
    assert "- Zulassungsbescheinigung Teil I und Teil II" in units
    assert "Gebühr | 27,60 Euro" in units
    assert units[-2:] == ["Die Frist beträgt zwei Wochen.", "Sie beginnt mit dem Eingang. werden."]


def test_units_are_found_in_their_chunk_text_despite_collapsed_whitespace() -> None:
    from text.sentence_units import unit_offsets

    text = "(1) Die Gebühr\nbeträgt  28 Euro.\n- Ausweis\n(1) Die Gebühr beträgt 28 Euro."  # a repeated unit
    units = split_units(text)
    assert unit_offsets(text, units) == [0, text.index("- Ausweis"), text.rindex("(1)")]
    # Stored units of another split (an older index) are still found, out of order too; a foreign one
    # is not.
    assert unit_offsets(text, ["(1) Die Gebühr beträgt 28 Euro.", "- Ausweis", "- Ausweis", "fremd"]) == [
        0,
        text.index("- Ausweis"),
        text.index("- Ausweis"),
        None,
    ]


def test_overlong_sentences_are_cut_at_words() -> None:
    units = split_units("Wort " * 300)
    assert len(units) > 1 and all(len(u) <= 420 for u in units)


def test_extract_quotes_retrieved_sources_and_holds_the_key_facts(answer_service) -> None:
    questions = [q for q in load_jsonl(ROOT / "eval" / "corpus_eval.jsonl") if q.get("answerable", True)]
    with_facts = hits = 0
    misses = []
    for q in questions:
        retrieved = answer_service.retrieve(q["question"])
        extract = answer_service.extract(q["question"], retrieved)
        assert extract.evidence, q["question"]
        chunks = {s.number: s.chunk.text for s in retrieved.sources}
        for e in extract.evidence:
            # quoted verbatim from a retrieved source (whitespace aside)
            assert " ".join(e.text.split()) in " ".join(chunks[e.source_number].split())
        facts = q.get("key_facts") or q.get("keywords") or []
        if facts:
            with_facts += 1
            if all(contains_fact(extract.text(), f) for f in facts):
                hits += 1
            else:
                misses.append(q["id"])
    share = hits / with_facts
    print(f"extract holds all key facts: {hits}/{with_facts} = {share:.2f}; misses: {misses}")
    assert with_facts >= 40
    assert share >= 0.8, misses


def test_a_sentence_is_about_what_its_heading_names() -> None:
    """A § titled "Videoüberwachung" answers a question about it, though its sentences never say
    the word; the same sentence under another heading, from a higher-ranked chunk, does not."""
    import numpy as np

    from kreiswissen.schema import Chunk, Source
    from rag.extract import Unit, score_units

    sentence = "Sie ist zulässig, soweit sie zur Wahrnehmung des Hausrechts erforderlich ist."
    vector = np.ones(4, dtype=np.float32)  # the same sentence: the same vector
    sources = [
        Source(n, Chunk(str(n), sentence, "bdsg", "Bundesdatenschutzgesetz", section, "x"), score=1.0 / n)
        for n, section in ((1, "§ 3 Verarbeitung durch öffentliche Stellen"), (2, "§ 4 Videoüberwachung"))
    ]
    units = [Unit(s, 0, sentence, vector) for s in sources]
    ranked = score_units("Was gilt für die Videoüberwachung?", [1.0, 1.0, 1.0, 1.0], units)
    assert ranked[0].source.chunk.section == "§ 4 Videoüberwachung"


def test_a_quoted_list_item_comes_with_its_sentence() -> None:
    """The best unit is one item of a rule ("2. … 13 Wochen"): the extract quotes the whole sentence,
    introduction, both items and the closing words, as one passage without "…" inside; an unrelated
    sentence of the same chunk stays out."""
    import numpy as np

    from kreiswissen.schema import Chunk, Source
    from rag.extract import Unit, pick_extract

    lines = [
        "(1) Wer Elternzeit beanspruchen will, muss sie",
        "1. bis zum dritten Geburtstag spätestens sieben Wochen und",
        "2. danach spätestens 13 Wochen",
        "vor Beginn der Elternzeit schriftlich vom Arbeitgeber verlangen.",
        "Der Arbeitgeber hat die Elternzeit zu bescheinigen.",
    ]
    chunk = Chunk("c", "\n".join(lines), "beeg", "BEEG", "§ 16 Inanspruchnahme der Elternzeit", "x")
    source = Source(1, chunk, score=1.0)
    units = [Unit(source, i, text, np.ones(4, dtype=np.float32)) for i, text in enumerate(lines)]
    for unit, score in zip(units, (0.3, 0.4, 0.9, 0.2, 0.1), strict=True):
        unit.score = score
    extract = pick_extract(sorted(units, key=lambda u: u.score, reverse=True))
    assert extract.text() == "\n".join(lines[:4])
    assert extract.passages() == [(1, lines[:4])]


def test_the_prompt_reads_an_item_with_its_sentence_and_never_loses_the_best_unit() -> None:
    import numpy as np

    from kreiswissen.schema import Chunk, Source
    from rag.extract import Unit, prompt_passages

    lines = [
        "Vorbemerkung ohne Bezug.",
        "(1) Wer Elternzeit beanspruchen will, muss sie",
        "1. bis zum dritten Geburtstag spätestens sieben Wochen und",
        "2. danach spätestens 13 Wochen",
        "vor Beginn der Elternzeit schriftlich vom Arbeitgeber verlangen.",
    ]
    source = Source(1, Chunk("c", "\n".join(lines), "beeg", "BEEG", "§ 16", "x"), score=1.0)
    units = [Unit(source, i, text, np.ones(4, dtype=np.float32)) for i, text in enumerate(lines)]
    best = units[2]  # item 1: its neighbours alone miss "13 Wochen" and the closing words

    def words(text: str) -> int:
        return len(text.split())

    ranked = [best, *(u for u in units if u is not best)]
    [(_, text)] = prompt_passages(ranked, budget_tokens=60, count_tokens=words)
    assert "muss sie" in text and "13 Wochen" in text and "schriftlich vom Arbeitgeber verlangen" in text
    # too small a budget for the sentence: the best unit still goes in
    [(_, text)] = prompt_passages(ranked, budget_tokens=10, count_tokens=words)
    assert "sieben Wochen" in text
