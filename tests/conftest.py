from __future__ import annotations

import json
from pathlib import Path

import pytest

from kreiswissen.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def make_settings(data_dir: Path, **overrides) -> Settings:
    return Settings(data_dir=data_dir, models_dir=ROOT / "models", **overrides)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """An index of the shipped corpus/, built once per test session."""
    from ingest.service import IngestService

    settings = make_settings(tmp_path_factory.mktemp("corpus-index"))
    report = IngestService(settings).ingest([CORPUS])
    assert not report.failed, report.failed
    return settings


@pytest.fixture(scope="session")
def answer_service(corpus_settings: Settings):
    from rag.answer_service import AnswerService

    return AnswerService(corpus_settings)
