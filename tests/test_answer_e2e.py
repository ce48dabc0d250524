"""End to end with the real default models: llama.cpp on the bundled GGUF (slow: the CPU generates)."""

from __future__ import annotations

import os
import re
import threading
import time

import pytest
from typer.testing import CliRunner

from cli.main import app
from rag.generator import LlamaCppGenerator

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
    assert isinstance(answer_service.generator, LlamaCppGenerator)
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


def test_closing_the_stream_stops_generation_at_once(answer_service) -> None:
    generator = answer_service.generator
    messages = [{"role": "user", "content": "Zähle langsam von eins bis hundert, jede Zahl als Wort."}]
    stream = generator.stream(messages, 400, 0.0)
    pieces = [next(stream) for _ in range(3)]
    stream.close()
    assert "".join(pieces).strip()
    # the Llama context is free again: a second generation starts right away (it would wait for the
    # ~400 tokens of the first, half a minute and more, had closing not stopped it)
    started = time.perf_counter()
    again = generator.stream(messages, 2, 0.0)
    assert next(again)
    again.close()
    assert time.perf_counter() - started < 10


def test_generation_runs_at_a_lower_cpu_priority_than_searches(answer_service) -> None:
    """With many questions at once the searches (and so everyone's extract) come before generation."""
    generator = answer_service.generator
    stream = generator.stream([{"role": "user", "content": "Sag Hallo."}], 2, 0.0)
    assert next(stream)
    stream.close()
    llama = [t for t in threading.enumerate() if t.name.startswith("llama-cpp")]
    assert llama, "llama.cpp runs in its own thread"
    assert all(
        os.getpriority(os.PRIO_PROCESS, t.native_id) > os.getpriority(os.PRIO_PROCESS, 0) for t in llama
    )
