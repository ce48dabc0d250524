"""A full rebuild never breaks the chat: it fills a new generation beside the old one and switches at
the end. While it runs, questions are answered from the old generation; a cancel or a `kill -9`
leaves the old generation answering with the same chunk count. Answers here are retrieval-level
(the sources the pipeline would answer from): the generator plays no part in this.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ingest.service import IngestService
from rag.answer_service import ALL_COLLECTIONS, AnswerService
from store.catalog import generation_key
from tests.conftest import ROOT, make_settings

NAME = "Regeln"
QUESTION = "Wie lange ist die Frist für den Widerspruch?"
TOPICS = ["Widerspruch", "Urlaubsantrag", "Dienstreise", "Parkausweis", "Krankmeldung"]


def write_rules(folder: Path, weeks: str, copies: int = 1) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(copies):
        for topic in TOPICS:
            text = (
                f"# Regel {topic} {n}\n\n## 1 Frist\n\nDie Frist für den {topic} beträgt {weeks} Wochen.\n\n"
                f"## 2 Zuständigkeit\n\nZuständig für {topic} ist das Hauptamt, Zimmer {n}.\n"
            )
            (folder / f"{topic.lower()}-{n}.md").write_text(text, encoding="utf-8")


@pytest.fixture
def indexed(tmp_path):
    folder = tmp_path / "regeln"
    write_rules(folder, "zwei")
    settings = make_settings(tmp_path / "data")
    report = IngestService(settings).ingest([folder], NAME)
    assert not report.failed
    service = AnswerService(settings)
    before = service.retrieve(QUESTION, NAME)  # the chat has its retriever open, as in the UI
    assert "zwei Wochen" in before.sources[0].chunk.text
    catalog = service.store.catalog
    old = {"ids": set(catalog.chunk_ids(NAME)), "count": chunk_count(service)}
    return settings, service, folder, old


def chunk_count(service: AnswerService) -> int:
    return next(c["chunks"] for c in service.store.catalog.collections() if c["name"] == NAME)


def assert_old_generation_answers(service: AnswerService, old: dict) -> None:
    for collection in (NAME, ALL_COLLECTIONS):
        sources = service.retrieve(QUESTION, collection).sources
        assert sources, collection
        assert {s.chunk.id for s in sources} <= old["ids"], collection
        assert "zwei Wochen" in sources[0].chunk.text and "drei" not in sources[0].chunk.text
    assert chunk_count(service) == old["count"]
    assert len(service.store.vector_ids(service.store.catalog.current_key(NAME))) == old["count"]


def test_questions_during_a_full_rebuild_get_the_old_generation(indexed) -> None:
    settings, service, folder, old = indexed
    write_rules(folder, "drei")  # the rebuild will index new content
    midway, asked = threading.Event(), threading.Event()

    def on_progress(progress) -> None:
        if progress.files_done >= 2 and not midway.is_set():
            midway.set()
            assert asked.wait(120), "the questions did not finish"

    ingest = IngestService(settings, store=service.store)  # one process, one store, as in the admin tab
    result: dict = {}
    rebuild = threading.Thread(
        target=lambda: result.update(report=ingest.ingest([folder], NAME, full=True, progress=on_progress))
    )
    rebuild.start()
    assert midway.wait(120), "the rebuild did not start"
    staging = generation_key(NAME, 1)
    assert service.store.catalog.chunk_ids(staging), "the new generation is being written beside the old"
    answers = []
    for _ in range(20):
        sources = (
            service.retrieve(QUESTION, NAME).sources + service.retrieve(QUESTION, ALL_COLLECTIONS).sources
        )
        answers.append(sources)
    asked.set()
    rebuild.join(300)
    assert all(a and {s.chunk.id for s in a} <= old["ids"] for a in answers)
    assert all("zwei Wochen" in a[0].chunk.text for a in answers)
    assert result["report"].chunks_added == old["count"] and not result["report"].cancelled
    # Switched: the same open service now answers from the new generation, the old one is gone.
    assert service.store.catalog.current_key(NAME) == staging
    assert "drei Wochen" in service.retrieve(QUESTION, NAME).sources[0].chunk.text
    assert service.store.catalog.chunk_ids(NAME) == [] and chunk_count(service) == old["count"]


def test_cancelled_rebuild_leaves_the_old_generation(indexed) -> None:
    settings, service, folder, old = indexed
    write_rules(folder, "drei", copies=4)  # more than one embedding batch: the cancel finds work left
    cancel = threading.Event()

    def on_progress(progress) -> None:
        if progress.files_done >= 1:  # some files of the new generation are written
            cancel.set()

    report = IngestService(settings, store=service.store).ingest(
        [folder], NAME, full=True, progress=on_progress, cancel=cancel
    )
    assert report.cancelled and report.chunks_added > 0
    assert service.store.catalog.current_key(NAME) == NAME
    assert service.store.catalog.chunk_ids(generation_key(NAME, 1)) == []  # the half generation is gone
    assert service.store.catalog.last_run(NAME)["status"] == "cancelled"
    assert_old_generation_answers(service, old)
    assert_old_generation_answers(AnswerService(settings), old)  # also for a freshly started server


def test_killed_rebuild_leaves_the_old_generation(indexed) -> None:
    settings, service, folder, old = indexed
    write_rules(folder, "drei", copies=3)  # long enough to be killed in the middle
    env = os.environ | {
        "KREISWISSEN_DATA_DIR": str(settings.data_dir),
        "KREISWISSEN_CHROMA__COLLECTION_PREFIX": settings.chroma.collection_prefix,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "kreiswissen", "ingest", str(folder), "--collection", NAME, "--full"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    staging = generation_key(NAME, 1)
    deadline = time.time() + 300
    with sqlite3.connect(settings.index_dir / "catalog.sqlite", timeout=30) as db:
        while time.time() < deadline and proc.poll() is None:
            if db.execute("SELECT COUNT(*) FROM files WHERE collection=?", (staging,)).fetchone()[0] >= 2:
                break
            time.sleep(0.05)
    assert proc.poll() is None, "the rebuild finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    assert service.store.catalog.chunk_ids(staging), "killed midway: a half generation is left beside"
    assert_old_generation_answers(service, old)
    assert_old_generation_answers(AnswerService(settings), old)
    # The next full rebuild clears the leftovers and completes.
    report = IngestService(settings, store=service.store).ingest([folder], NAME, full=True)
    assert not report.cancelled and chunk_count(service) == report.chunks_added == old["count"] * 3
    assert "drei Wochen" in service.retrieve(QUESTION, NAME).sources[0].chunk.text


def test_drop_removes_catalog_rows_before_vectors(indexed) -> None:
    """A crash between the two steps must not leave catalog rows whose vectors are gone."""
    _, service, _, _ = indexed
    store = service.store

    def crash(name: str) -> None:
        raise KeyboardInterrupt  # the process dies while deleting vectors

    store.client.delete_collection = crash  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        store.drop(NAME)
    assert store.catalog.chunk_ids(NAME) == [] and store.catalog.files(NAME) == {}
