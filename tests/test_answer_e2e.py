"""End to end with the real default models: llama.cpp on the bundled GGUF in its child process (slow: the
CPU generates). Cancelling and the child's CPU priority: tests/test_model_server.py."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from cli.main import app
from rag.generator import LlamaServerGenerator

pytestmark = pytest.mark.slow

GERMAN = re.compile(r"\b(der|die|das|und|ist|sind|werden|für|mit|nicht|eine?)\b", re.I)
QUESTION = "Welche Unterlagen brauche ich für die Zulassung eines Gebrauchtwagens?"


def test_ask_cli_prints_the_extract_then_the_answer(corpus_settings, monkeypatch) -> None:
    monkeypatch.setenv("KREISWISSEN_DATA_DIR", str(corpus_settings.data_dir))
    from kreiswissen.settings import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["ask", QUESTION])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    extract, rest = result.output.split("Fundstelle (wörtlich aus dem Dokument, ohne KI)", 1)[1].split(
        "Antwort des Sprachmodells", 1
    )
    assert "Zulassungsbescheinigung" in extract and re.search(r"\[\d\]", extract)
    assert "Quellen" in rest and GERMAN.search(rest)


def test_default_generator_is_llama_cpp_and_gives_a_verified_german_answer(answer_service) -> None:
    assert isinstance(answer_service.generator, LlamaServerGenerator)
    verified = []
    for question in ("Bis wann muss eine Datenpanne gemeldet werden?", QUESTION):
        answer = answer_service.answer(question)
        assert not answer.refused
        assert answer.extract and answer.extract.evidence
        assert answer.generated.strip() and GERMAN.search(answer.generated)
        # the model reads the extract's sentences (plus the cached system prompt), not whole chunks
        assert answer.timings["prompt_tokens"] <= 750
        numbers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
        assert numbers and numbers <= {s.number for s in answer.sources}
        if answer.verified:
            assert set(answer.cited) <= numbers and not answer.notice.startswith("Die formulierte")
            verified.append(question)
        else:  # a claim the sources do not back: the extract is the answer, with the reason
            assert answer.notice and answer.text.startswith("„")
    # the small model is weak, but on these two plain questions at least one answer checks out
    assert verified
