"""The bundled model in its supervised child process (rag.model_server), with the real llama.cpp server
and the real GGUF: a crash, an out-of-memory kill or a hang of the child costs the answer in flight its
generated text, never the web process; the child is restarted and the next answer is generated. Through
the real server and browser (extract and German note kept): tests/test_ui_browser.py."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from kreiswissen.model_assets import assemble_gguf
from rag.generator import GeneratorCrashed, LlamaServerGenerator, build_generator
from rag.model_server import LocalModelServer, ModelServerDown, exit_reason
from tests.conftest import ROOT, make_settings

pytestmark = pytest.mark.slow

COUNT = [{"role": "user", "content": "Zähle von eins bis hundert, jede Zahl als Wort."}]
HELLO = [{"role": "user", "content": "Sag Hallo."}]


def wait_for_restart(server: LocalModelServer, old_pid: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = server.pid
        if pid is not None and pid != old_pid and server._ready:
            return pid
        time.sleep(0.1)
    raise AssertionError("the model server child was not restarted")


@pytest.fixture(scope="module")
def generator(tmp_path_factory: pytest.TempPathFactory) -> LlamaServerGenerator:
    settings = make_settings(tmp_path_factory.mktemp("model-server") / "data")
    generator = build_generator(settings)  # the default backend: the shared child of this test session
    assert isinstance(generator, LlamaServerGenerator)
    return generator


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGKILL])
def test_a_child_that_dies_mid_answer_costs_that_answer_and_is_restarted(generator, sig) -> None:
    stream = generator.stream(COUNT, 200, 0.0)
    assert next(stream).strip()  # the answer is streaming
    pid = generator.server.pid
    assert pid is not None and pid != os.getpid()
    os.kill(pid, sig)
    with pytest.raises(GeneratorCrashed) as crashed:
        for _ in stream:
            pass
    text = str(crashed.value)
    # the German note names what happened and that it is being repaired
    assert exit_reason(-sig).split(" (")[0] in text and "neu gestartet" in text
    new_pid = wait_for_restart(generator.server, pid)
    assert new_pid != pid
    assert "".join(generator.stream(HELLO, 5, 0.0)).strip()  # the next answer is generated


def test_a_hung_child_is_killed_after_the_stall_limit_and_restarted(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    g = settings.generator.model_copy(update={"timeout_s": 4})
    generator = LlamaServerGenerator(
        assemble_gguf(ROOT / "models"), g, ROOT / "models", tmp_path / "model-server.log"
    )
    try:
        stream = generator.stream(COUNT, 200, 0.0)
        assert next(stream).strip()
        pid = generator.server.pid
        os.kill(pid, signal.SIGSTOP)  # alive, connection open, no more tokens
        started = time.monotonic()
        with pytest.raises(GeneratorCrashed, match="reagiert nicht mehr"):
            for _ in stream:
                pass
        assert time.monotonic() - started < 30
        wait_for_restart(generator.server, pid)
        assert "".join(generator.stream(HELLO, 5, 0.0)).strip()
        assert "start qwen" in (tmp_path / "model-server.log").read_text()  # the child's own log
    finally:
        generator.close()
    assert generator.server.pid is None  # closing ends the child


def test_closing_the_stream_stops_the_childs_generation_at_once(generator) -> None:
    stream = generator.stream(COUNT, 400, 0.0)
    pieces = [next(stream) for _ in range(3)]
    stream.close()
    assert "".join(pieces).strip()
    # the child is free again: a second generation starts right away (it would wait for the ~400
    # tokens of the first, half a minute and more, had closing not stopped it)
    started = time.perf_counter()
    again = generator.stream(HELLO, 2, 0.0)
    assert next(again)
    again.close()
    assert time.perf_counter() - started < 10


def test_the_child_runs_at_a_lower_cpu_priority_than_the_web_process(generator) -> None:
    """With many questions at once the searches (and so everyone's extract) come before generation."""
    assert "".join(generator.stream(HELLO, 2, 0.0))
    pid = generator.server.pid
    assert os.getpriority(os.PRIO_PROCESS, pid) > os.getpriority(os.PRIO_PROCESS, 0)


def test_token_counts_match_the_childs_llama_cpp_tokenizer(generator) -> None:
    import httpx

    text = "Die Gebühr beträgt 28,60 € je Zulassungsbescheinigung (§ 6 Abs. 1 FZV)."
    url = generator.server.url().removesuffix("/v1")
    counted = httpx.post(f"{url}/extras/tokenize/count", json={"input": text}, timeout=60).json()["count"]
    assert generator.count_tokens(text) == counted


def test_a_child_that_cannot_start_is_reported_in_german_not_restarted_forever(tmp_path: Path) -> None:
    broken = tmp_path / "kaputt.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    settings = make_settings(tmp_path / "data").generator
    server = LocalModelServer(broken, settings, tmp_path / "model-server.log")
    messages = []
    for _ in range(6):
        with pytest.raises(ModelServerDown) as down:
            server.url()
        messages.append(str(down.value))
    assert "noch bevor er bereit war" in messages[0]
    assert "startet auf diesem Rechner nicht" in messages[-1] and "kreiswissen doctor" in messages[-1]
