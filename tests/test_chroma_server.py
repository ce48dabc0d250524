"""The store is the one the settings name: embedded on disk, or a Chroma server over HTTP
(the integration tests run once each way: `make test` sets KREISWISSEN_TEST_CHROMA=http for the second)."""

from __future__ import annotations

import os

from ingest.service import IngestService
from store.index_store import IndexStore
from tests.conftest import make_settings


def test_store_mode_follows_the_settings(tmp_path, chroma_server) -> None:
    settings = make_settings(tmp_path / "data")
    store = IndexStore(settings)
    store.vector_store("x")
    if os.environ.get("KREISWISSEN_TEST_CHROMA") == "http":
        assert settings.chroma.mode == "http" and settings.chroma.port == chroma_server
        assert not (settings.index_dir / "chroma").exists()  # nothing embedded on disk
    else:
        assert settings.chroma.mode == "persistent" and chroma_server is None
        assert (settings.index_dir / "chroma").is_dir()


def test_two_installations_on_one_store_do_not_see_each_other(tmp_path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\n## 1 Frist\n\nDie Frist beträgt zwei Wochen.\n", encoding="utf-8")
    first, second = make_settings(tmp_path / "one"), make_settings(tmp_path / "two")
    IngestService(first).ingest([docs])
    assert IndexStore(first).vector_count(first.collection) == 1
    assert IndexStore(second).vector_count(second.collection) == 0
