"""End to end with the real default models (slow: the generator runs on the CPU)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from kreiswissen.cli import app

pytestmark = pytest.mark.slow

GERMAN = re.compile(r"\b(der|die|das|und|ist|sind|werden|für|mit|nicht|eine?)\b", re.I)


def test_ask_cli_answers_in_german_with_citations_to_retrieved_sources(corpus_settings, monkeypatch) -> None:
    monkeypatch.setenv("KREISWISSEN_DATA_DIR", str(corpus_settings.data_dir))
    from kreiswissen.settings import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["ask", "Welche Unterlagen brauche ich für die Zulassung eines Gebrauchtwagens?"]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    answer = result.output.split("Antwort (KI-generiert", 1)[1]
    assert GERMAN.search(answer)
    assert "Quellen" in answer


def test_answer_citations_point_to_retrieved_sources(answer_service) -> None:
    answer = answer_service.answer("Welche Unterlagen brauche ich für die Zulassung eines Gebrauchtwagens?")
    assert not answer.refused and answer.text.strip()
    assert GERMAN.search(answer.text)
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    shown = {s.number for s in answer.sources}
    assert numbers, answer.text
    assert numbers <= shown
    assert set(answer.cited) <= shown and answer.cited
    assert any(s.chunk.doc_id.startswith("handbuch-kfz") for s in answer.cited_sources), answer.cited_sources
