"""The ingest benchmark on two small files: every pipeline runs (in its own process) and reports."""

from __future__ import annotations

import json
from pathlib import Path

from eval.bench_ingest import print_compare, print_result, run_bench, run_compare
from kreiswissen.settings import Settings


def test_bench_ingest_reports_rates_and_ratios(settings: Settings, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for n, topic in enumerate(("Wohngeld", "Elterngeld", "Kfz-Zulassung"), start=1):
        sections = "".join(
            f"## {i} Abschnitt {i}\n\nRegeln zum {topic}, Teil {i}: Der Antrag ist schriftlich zu stellen.\n\n"
            for i in range(1, 4)
        )
        (folder / f"{n}-{topic.lower()}.md").write_text(
            f"# Merkblatt {topic}\n\n{sections}", encoding="utf-8"
        )

    result = run_bench(folder, limit=2, settings=settings, batch_sample=4, work_dir=tmp_path)

    assert result["files"] == ["1-wohngeld.md", "2-elterngeld.md"]  # the first two, sorted
    kw, li, raw = result["kreiswissen"], result["llamaindex"], result["raw_embedding"]
    assert kw["documents"] == li["documents"] == 2 and not kw["failed"]
    assert kw["chunks"] == raw["chunks"] == 6  # one chunk per section, embedded again alone
    assert kw["chunks_per_file"] == [3, 3]
    for part in (kw, li, raw):
        assert part["wall_s"] > 0 and part["chunks_per_s"] > 0 and part["peak_rss_mb"] > 0
    assert kw["documents_per_s"] > 0 and li["documents_per_s"] > 0
    assert result["rerun"]["skipped"] == 2 and result["rerun"]["chunks_added"] == 0
    assert 0 < result["rerun"]["share_of_first"] < 1
    assert set(result["batching"]["chunks_per_s_by_batch_size"]) == {"1", "8", "32"}
    # The overlapped pipeline embeds chunks and sentence units together, of both files where the
    # second is read in time (else it does not keep the embedder waiting).
    assert kw["pipeline"] == "overlapped" and kw["sentence_units"] >= 6
    assert result["batching"]["ingest_batches"] in (1, 2)
    assert kw["hours_for_200k_chunks"] == 200_000 / kw["chunks_per_s"] / 3600
    assert kw["eta"]["samples"] > 0

    ratios = result["ratios"]
    assert set(ratios) == {
        "kreiswissen_vs_llamaindex_wall",
        "kreiswissen_vs_llamaindex_documents_per_s",
        "kreiswissen_vs_llamaindex_chunks_per_s",
        "kreiswissen_vs_llamaindex_chars_per_s",
        "kreiswissen_vs_llamaindex_peak_rss",
        "raw_vs_pipeline_chunks_per_s",
        "rerun_share",
    }
    assert all(isinstance(v, float) and v > 0 for v in ratios.values())
    assert ratios["raw_vs_pipeline_chunks_per_s"] == raw["chunks_per_s"] / kw["chunks_per_s"]
    assert not any(tmp_path.glob("kreiswissen-bench-*")), "the temporary index is removed"
    json.dumps(result)  # --out writes it as JSON

    print_result(result)
    out = capsys.readouterr().out
    assert "Abschnitte/s" in out and "Embedding allein / Kreiswissen" in out
    assert "Hochgerechnet auf 200" in out and "Restzeit-Schätzung" in out


def test_bench_compare_runs_each_variant(settings: Settings, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for n in range(3):
        (folder / f"{n}.md").write_text(
            f"# Merkblatt {n}\n\n## 1 Antrag\n\nDer Antrag {n} ist schriftlich zu stellen.\n",
            encoding="utf-8",
        )
    fast = settings.model_copy(update={"embedding": settings.embedding.model_copy(update={"backend": "use"})})
    result = run_compare(folder, ["ingest.pipeline=sequential"], settings=fast, work_dir=tmp_path)
    first, second = result["runs"]
    assert (first["label"], first["pipeline"]) == ("eingestellt", "overlapped")
    assert (second["label"], second["pipeline"]) == ("ingest.pipeline=sequential", "sequential")
    assert first["chunks"] == second["chunks"] == 3 and first["embedding"].startswith("use:")
    assert first["embedding_batches"] < second["embedding_batches"] == 6  # sequential: 2 per file
    assert first["chunks_per_s_vs_first"] == 1.0
    assert second["chunks_per_s_vs_first"] == second["chunks_per_s"] / first["chunks_per_s"]
    print_compare(result)
    out = capsys.readouterr().out
    assert "Pipeline sequential" in out and "200" in out
