from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from kreiswissen.files import file_sha256
from kreiswissen.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(app) -> Iterator[str]:
    """Run an ASGI app with uvicorn on a free loopback port in a thread; yield its URL."""
    import uvicorn

    # proxy_headers off, as in `kreiswissen serve`: the app itself decides whom to trust.
    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning", proxy_headers=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.config.port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def make_settings(data_dir: Path, **overrides) -> Settings:
    settings = Settings(data_dir=data_dir, models_dir=ROOT / "models", **overrides)
    if "generator" not in overrides:
        # Tests check behaviour, not speed: a busy machine must not turn an answer into a time-out.
        settings = settings.model_copy(
            update={"generator": settings.generator.model_copy(update={"timeout_s": 900})}
        )
    if settings.chroma.mode == "http":
        # Tests share one Chroma server: each data dir gets its own collections.
        prefix = "t" + hashlib.sha1(str(data_dir).encode()).hexdigest()[:10]
        settings = settings.model_copy(
            update={"chroma": settings.chroma.model_copy(update={"collection_prefix": prefix})}
        )
    return settings


# Indexes the answer and retrieval tests read, built by the real ingest and kept between runs: a warm
# `make test` re-embeds nothing it embedded before. Keyed by the code that builds an index, the
# settings and every file's content; a test works on a copy, never on the cache itself.
INDEX_CACHE = ROOT / ".venv" / "test-indexes"
INDEX_CODE = ("ingest", "text", "embedding", "store", "kreiswissen")


def _code_key() -> str:
    h = hashlib.sha1()
    for pkg in INDEX_CODE:
        for f in sorted((ROOT / pkg).rglob("*.py")):
            h.update(f.read_bytes())
    return h.hexdigest()[:12]


def _content_key(paths: list[Path], settings: Settings) -> str:
    e, r = settings.embedding, settings.retrieval
    h = hashlib.sha1(f"{e}|{r.chunk_size}|{r.chunk_min}".encode())
    for path in paths:
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for f in files:
            h.update(f"{f.resolve()}\0{file_sha256(f)}\0".encode())
    return h.hexdigest()[:16]


def indexed(data_dir: Path, paths: list[Path]) -> Settings:
    """Settings of an index of `paths` (files or folders) in `data_dir`. Against a Chroma server it
    is built there; else copied from the cache, which is built (from the cached index of a subset of
    `paths`, if there is one) when missing."""
    from ingest.service import IngestService

    settings = make_settings(data_dir)
    if settings.chroma.mode == "http":
        report = IngestService(settings).ingest(paths)
        assert not report.failed, report.failed
        return settings
    code = INDEX_CACHE / _code_key()
    for old in INDEX_CACHE.glob("*"):  # indexes built by other code are of no further use
        if old != code:
            shutil.rmtree(old, ignore_errors=True)
    cache = code / _content_key(paths, settings)
    if not cache.is_dir():
        wanted = sorted(str(p.resolve()) for p in paths)
        build = code / f"build-{uuid.uuid4().hex}"
        cached = {d.parent: set(json.loads(d.read_text())) for d in code.glob("*/paths.json")}
        seeds = {d: held for d, held in cached.items() if held < set(wanted)}
        if seeds:  # only the files the seed lacks are embedded
            shutil.copytree(max(seeds, key=lambda d: len(seeds[d])), build)
        report = IngestService(make_settings(build)).ingest(paths)
        assert not report.failed, report.failed
        (build / "paths.json").write_text(json.dumps(wanted))
        build.rename(cache)  # complete or absent: a killed run leaves only a build-* folder
    shutil.copytree(cache, data_dir, ignore=shutil.ignore_patterns("paths.json"))
    return settings


@pytest.fixture(scope="session", autouse=True)
def chroma_server(tmp_path_factory: pytest.TempPathFactory):
    """With KREISWISSEN_TEST_CHROMA=http the suite runs against a real `chroma run` server on loopback."""
    if os.environ.get("KREISWISSEN_TEST_CHROMA") != "http":
        yield None
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = tmp_path_factory.mktemp("chroma-server")
    chroma = Path(sys.executable).parent / "chroma"
    log = (path / "server.log").open("w")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError(f"chroma server did not start: {(path / 'server.log').read_text()}")
    mp = pytest.MonkeyPatch()
    mp.setenv("KREISWISSEN_CHROMA__MODE", "http")
    mp.setenv("KREISWISSEN_CHROMA__PORT", str(port))
    yield port
    mp.undo()
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """An index of the shipped corpus/ (see `indexed`)."""
    return indexed(tmp_path_factory.mktemp("corpus-index") / "data", [CORPUS])


@pytest.fixture(scope="session")
def answer_service(corpus_settings: Settings):
    from rag.answer_service import AnswerService

    return AnswerService(corpus_settings)
