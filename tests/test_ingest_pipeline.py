"""The overlapped ingest pipeline (files read ahead in a worker, texts of several files embedded in
shared batches) builds exactly the index the sequential one builds, in fewer embedding batches,
and reports progress with rates and a time remaining that counts down."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from llama_index.core.callbacks import CallbackManager, CBEventType, LlamaDebugHandler

from ingest.progress import Progress
from ingest.service import IngestService
from kreiswissen.settings import EmbeddingSettings, IngestSettings, Settings
from tests.conftest import make_settings

TOPICS = ("Wohngeld", "Elterngeld", "Kfz-Zulassung", "Hundesteuer", "Sperrmüll", "Meldewesen")


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "ablage"
    folder.mkdir()
    for n, topic in enumerate(TOPICS):
        (folder / f"{n}-{topic.lower()}.md").write_text(
            f"# Merkblatt {topic}\n\n## 1 Antrag\n\nDer Antrag zum {topic} ist schriftlich zu stellen. "
            f"Zuständig ist das Bürgerbüro.\n\n## 2 Fristen\n\nÜber den Antrag zum {topic} wird "
            "innerhalb von vier Wochen entschieden. Unterlagen sind vollständig beizufügen.\n",
            encoding="utf-8",
        )
    (folder / "3b-kaputt.txt").write_bytes(bytes(range(256)) * 40)  # binary: fails alone
    return folder


def _settings(data_dir: Path, pipeline: str) -> Settings:
    return make_settings(
        data_dir, embedding=EmbeddingSettings(backend="use"), ingest=IngestSettings(pipeline=pipeline)
    )


def _index(service: IngestService, collection: str) -> dict:
    catalog = service.store.catalog
    ids = sorted(catalog.chunk_ids(collection))
    vectors = service.store.embeddings(collection, ids)
    sentences = catalog.sentences(ids)
    return {
        "ids": ids,
        "tokens": catalog.tokens(collection),
        "units": {cid: [t for t, _ in rows] for cid, rows in sentences.items()},
        "vectors": np.array([vectors[i] for i in ids]),
        "unit_vectors": np.concatenate(
            [np.frombuffer(v, dtype=np.float16) for cid in ids for _, v in sentences[cid]]
        ),
    }


def test_overlapped_pipeline_builds_the_sequential_index_in_fewer_batches(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    runs = {}
    for pipeline in ("sequential", "overlapped"):
        service = IngestService(_settings(tmp_path / pipeline, pipeline))
        debug = LlamaDebugHandler()
        service.embed_model.callback_manager = CallbackManager([debug])
        seen: list[Progress] = []
        report = service.ingest([folder], collection="x", progress=seen.append)
        service.embed_model.callback_manager = CallbackManager([])
        assert [Path(p).name for p, _ in report.failed] == ["3b-kaputt.txt"]
        assert len(report.added) == len(TOPICS) and report.chunks_added == 2 * len(TOPICS)
        runs[pipeline] = (_index(service, "x"), len(debug.get_event_pairs(CBEventType.EMBEDDING)))
        final = seen[-1]
        assert final.files_done == final.files_total == len(TOPICS) + 1
        assert final.bytes_done == final.bytes_total > 0 and final.chunks_done == 2 * len(TOPICS)
        assert final.eta_seconds() == 0.0 and final.chunks_per_s() > 0 and final.files_per_s() > 0

    (seq, seq_batches), (ovl, ovl_batches) = runs["sequential"], runs["overlapped"]
    assert ovl["ids"] == seq["ids"] and ovl["tokens"] == seq["tokens"] and ovl["units"] == seq["units"]
    assert np.allclose(ovl["vectors"], seq["vectors"], atol=1e-5)
    assert np.allclose(ovl["unit_vectors"], seq["unit_vectors"], atol=2e-3)  # float16
    # Sequential: two batches per file (chunks, then sentence units); overlapped: shared batches.
    assert seq_batches == 2 * len(TOPICS)
    assert ovl_batches < len(TOPICS)


def test_time_remaining_is_by_bytes_and_unknown_at_first() -> None:
    p = Progress(files_total=3, bytes_total=1000, started=100.0, work_started=100.0)
    assert p.eta_seconds(now=150.0) is None  # nothing done yet
    p.files_done, p.bytes_done, p.chunks_done = 1, 250, 10
    assert p.eta_seconds(now=150.0) == 150.0  # 250 bytes in 50 s: 750 bytes take 150 s
    assert p.chunks_per_s(now=150.0) == 0.2
    p.files_done, p.bytes_done = 3, 1000
    assert p.eta_seconds(now=200.0) == 0.0
