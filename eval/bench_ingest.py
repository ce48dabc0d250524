"""`kreiswissen bench ingest DIR`: how fast Kreiswissen indexes, beside LlamaIndex's plain default
pipeline and beside the embedder alone, on the same files with the same embedder.

Measured in one run:

1. Kreiswissen's IngestService into a fresh temporary data dir (embedded Chroma);
2. the same ingest again with nothing changed (should cost < 5 % of the first);
3. LlamaIndex's default: SimpleDirectoryReader + SentenceSplitter() + VectorStoreIndex in memory;
4. the embedder alone on exactly the texts Kreiswissen embedded in (1), in batches of the configured
   size, plus a short comparison of batch sizes (1, 8, 32) on a sample.

Every measurement runs in its own process started with "spawn", so its peak memory is its own and
no warm cache carries over. Timings start after the embedder is loaded and has embedded one text.
"""

from __future__ import annotations

import contextlib
import json
import math
import multiprocessing
import os
import platform
import resource
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kreiswissen.settings import Settings, get_settings

console = Console()
bench_app = typer.Typer(help="Leistungsmessungen.", no_args_is_help=True, add_completion=False)

BENCH_COLLECTION = "bench"
BATCH_SIZES = (1, 8, 32)
WARM_UP = "Aufwärmen des Embedding-Modells vor der Zeitmessung."


# -- measuring inside a child process ----------------------------------------------------------


def _peak_rss_mb() -> float:
    """High-water mark of this process's resident memory."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes vs KiB


class _TreeMemory:
    """Samples the summed RSS of this process and its descendants (Kreiswissen's loader worker);
    needs psutil (installed with accelerate), else reports nothing."""

    def __init__(self, interval_s: float = 0.1) -> None:
        self.peak_mb: float | None = None
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> _TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        try:
            import psutil
        except ImportError:
            return
        me = psutil.Process()
        while True:
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
            self.peak_mb = max(self.peak_mb or 0.0, total / 2**20)
            if self._stop.wait(self._interval):
                return


def _embedder(settings: Settings):
    from rag.embedding import build_embed_model

    model = build_embed_model(settings.embedding)
    model.get_text_embedding_batch([WARM_UP])
    return model


def _kreiswissen_child(settings_data: dict, files: list[str]) -> dict:
    from ingest.service import IngestService

    settings = Settings.model_validate(settings_data)
    service = IngestService(settings)
    _embedder(settings)  # the same cached instance the service uses: loaded and warm
    paths = [Path(f) for f in files]
    rss_before = _peak_rss_mb()
    with _TreeMemory() as tree:
        started = time.perf_counter()
        report = service.ingest(paths, collection=BENCH_COLLECTION)
        wall = time.perf_counter() - started
        peak_first = _peak_rss_mb()
        started = time.perf_counter()
        again = service.ingest(paths, collection=BENCH_COLLECTION)
        rerun_wall = time.perf_counter() - started
    records = service.store.catalog.files(BENCH_COLLECTION)
    return {
        "documents": len(report.added),
        "failed": [[p, reason] for p, reason in report.failed],
        "chunks": report.chunks_added,
        "chunks_per_file": sorted(r.chunks for r in records.values()),
        "wall_s": wall,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak_first,
        "peak_tree_rss_mb": tree.peak_mb,
        "rerun": {
            "wall_s": rerun_wall,
            "skipped": len(again.skipped),
            "chunks_added": again.chunks_added,
        },
    }


def _llamaindex_child(settings_data: dict, files: list[str]) -> dict:
    from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.schema import MetadataMode

    settings = Settings.model_validate(settings_data)
    embed_model = _embedder(settings)
    rss_before = _peak_rss_mb()
    with _TreeMemory() as tree:
        started = time.perf_counter()
        documents = SimpleDirectoryReader(input_files=files).load_data()
        nodes = SentenceSplitter().get_nodes_from_documents(documents)
        VectorStoreIndex(nodes, embed_model=embed_model)
        wall = time.perf_counter() - started
    chars = sum(len(n.get_content(metadata_mode=MetadataMode.EMBED)) for n in nodes)
    return {
        "documents": len(files),
        "reader_documents": len(documents),
        "chunks": len(nodes),
        "embedded_chars": chars,
        "wall_s": wall,
        "rss_before_mb": rss_before,
        "peak_rss_mb": _peak_rss_mb(),
        "peak_tree_rss_mb": tree.peak_mb,
    }


def _raw_child(settings_data: dict, batch_sample: int) -> dict:
    from rag.catalog import Catalog
    from rag.index_store import embed_text

    settings = Settings.model_validate(settings_data)
    chunks = Catalog(settings.index_dir / "catalog.sqlite").chunks(BENCH_COLLECTION)
    texts = [embed_text(c) for c in chunks]
    model = _embedder(settings)
    started = time.perf_counter()
    model.get_text_embedding_batch(texts)
    wall = time.perf_counter() - started
    batch_rates: dict[str, float] = {}
    sample = texts[:batch_sample]
    for size in BATCH_SIZES if sample else ():
        started = time.perf_counter()
        for i in range(0, len(sample), size):
            model.get_text_embedding_batch(sample[i : i + size])
        batch_rates[str(size)] = len(sample) / (time.perf_counter() - started)
    return {
        "chunks": len(texts),
        "embedded_chars": sum(map(len, texts)),
        "batch_size": settings.embedding.batch_size,
        "wall_s": wall,
        "peak_rss_mb": _peak_rss_mb(),
        "batch_sample": len(sample),
        "batch_rates": batch_rates,
    }


_CHILDREN: dict[str, Callable[..., dict]] = {
    "kreiswissen": _kreiswissen_child,
    "llamaindex": _llamaindex_child,
    "raw": _raw_child,
}


def _child_main(name: str, args: tuple, conn: Any) -> None:
    try:
        conn.send(("ok", _CHILDREN[name](*args)))
    except BaseException as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
    finally:
        conn.close()


def _in_child(name: str, *args: Any) -> dict:
    ctx = multiprocessing.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child_main, args=(name, args, sender), name=f"bench-{name}")
    process.start()
    sender.close()
    try:
        status, payload = receiver.recv()
    except EOFError:
        status, payload = "error", "Prozess ohne Ergebnis beendet"
    finally:
        process.join()
    if status != "ok":
        raise RuntimeError(f"Messlauf „{name}“ fehlgeschlagen (Exit-Code {process.exitcode}): {payload}")
    return payload


# -- the benchmark -----------------------------------------------------------------------------


def bench_files(folder: Path, limit: int | None = None) -> list[Path]:
    """The files Kreiswissen would index under folder, sorted; the first `limit` of them."""
    from ingest.service import discover

    files, _ = discover([folder])
    return files[:limit] if limit else files


def _rate(count: float, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def run_bench(
    folder: Path,
    limit: int | None = None,
    settings: Settings | None = None,
    batch_sample: int = 48,
    work_dir: Path | None = None,
    on_step: Callable[[str], None] | None = None,
) -> dict:
    """Run all measurements on the (first `limit`) files of folder; return the figures."""
    if not folder.is_dir():
        raise FileNotFoundError(f"Ordner nicht gefunden: {folder}")
    files = bench_files(folder, limit)
    if not files:
        raise ValueError(f"Keine unterstützten Dateien in {folder}")
    settings = settings or get_settings()
    step = on_step or (lambda _text: None)
    tmp = Path(tempfile.mkdtemp(prefix="kreiswissen-bench-", dir=work_dir))
    try:
        # A fresh embedded store in the temp dir, whatever the installation uses.
        bench_settings = settings.model_copy(
            update={
                "data_dir": tmp / "data",
                "chroma": settings.chroma.model_copy(update={"mode": "persistent"}),
            }
        )
        data = bench_settings.model_dump(mode="json")
        names = [str(f) for f in files]
        step("Kreiswissen: Indexieren und erneuter Lauf ohne Änderungen …")
        kw = _in_child("kreiswissen", data, names)
        step("LlamaIndex-Standardpipeline …")
        li = _in_child("llamaindex", data, names)
        step("Embedding allein auf denselben Abschnitten …")
        raw = _in_child("raw", data, batch_sample)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    from rag.embedding import embedding_name

    kw_chars = raw["embedded_chars"]
    kreiswissen = kw | {
        "documents_per_s": _rate(kw["documents"], kw["wall_s"]),
        "chunks_per_s": _rate(kw["chunks"], kw["wall_s"]),
        "embedded_chars": kw_chars,
        "chars_per_s": _rate(kw_chars, kw["wall_s"]),
        "mean_chunk_chars": _rate(kw_chars, kw["chunks"]),
    }
    rerun = kreiswissen.pop("rerun")
    rerun["share_of_first"] = _ratio(rerun["wall_s"], kw["wall_s"])
    llamaindex = li | {
        "documents_per_s": _rate(li["documents"], li["wall_s"]),
        "chunks_per_s": _rate(li["chunks"], li["wall_s"]),
        "chars_per_s": _rate(li["embedded_chars"], li["wall_s"]),
        "mean_chunk_chars": _rate(li["embedded_chars"], li["chunks"]),
    }
    raw_rates = raw.pop("batch_rates")
    raw_embedding = raw | {
        "chunks_per_s": _rate(raw["chunks"], raw["wall_s"]),
        "chars_per_s": _rate(raw["embedded_chars"], raw["wall_s"]),
    }
    # IngestService embeds per file: a file of n chunks makes ceil(n / batch_size) batches.
    size = settings.embedding.batch_size
    batches = sum(math.ceil(n / size) for n in kw["chunks_per_file"])
    batching = {
        "configured_batch_size": size,
        "ingest_batches": batches,
        "ingest_mean_batch": _rate(kw["chunks"], batches),
        "sample": raw["batch_sample"],
        "chunks_per_s_by_batch_size": raw_rates,
    }
    ratios = {
        "kreiswissen_vs_llamaindex_wall": _ratio(kw["wall_s"], li["wall_s"]),
        "kreiswissen_vs_llamaindex_documents_per_s": _ratio(
            kreiswissen["documents_per_s"], llamaindex["documents_per_s"]
        ),
        "kreiswissen_vs_llamaindex_chunks_per_s": _ratio(
            kreiswissen["chunks_per_s"], llamaindex["chunks_per_s"]
        ),
        "kreiswissen_vs_llamaindex_chars_per_s": _ratio(
            kreiswissen["chars_per_s"], llamaindex["chars_per_s"]
        ),
        "kreiswissen_vs_llamaindex_peak_rss": _ratio(kw["peak_rss_mb"], li["peak_rss_mb"]),
        "raw_vs_pipeline_chunks_per_s": _ratio(raw_embedding["chunks_per_s"], kreiswissen["chunks_per_s"]),
        "rerun_share": rerun["share_of_first"],
    }
    return {
        "folder": str(folder.resolve()),
        "limit": limit,
        "files": [f.name for f in files],
        "embedding": embedding_name(settings.embedding),
        "chunk_size": settings.retrieval.chunk_size,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "kreiswissen": kreiswissen,
        "rerun": rerun,
        "llamaindex": llamaindex,
        "raw_embedding": raw_embedding,
        "batching": batching,
        "ratios": ratios,
    }


# -- output ------------------------------------------------------------------------------------


def _num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{_num(value * 100, 1)} %"


def print_result(result: dict) -> None:
    kw, rerun, li, raw = result["kreiswissen"], result["rerun"], result["llamaindex"], result["raw_embedding"]
    table = Table(title=f"Indexierung: {len(result['files'])} Dateien aus {result['folder']}")
    table.add_column("Kennzahl")
    for name in ("Kreiswissen", "Kreiswissen erneut (unverändert)", "LlamaIndex Standard", "Nur Embedding"):
        table.add_column(name, justify="right")
    rows: list[tuple[str, str, str, str, str]] = [
        (
            "Dokumente",
            str(kw["documents"]),
            str(rerun["skipped"]) + " übersprungen",
            str(li["documents"]),
            "–",
        ),
        (
            "Abschnitte (Chunks)",
            str(kw["chunks"]),
            str(rerun["chunks_added"]),
            str(li["chunks"]),
            str(raw["chunks"]),
        ),
        (
            "Ø Zeichen je Abschnitt",
            _num(kw["mean_chunk_chars"], 0),
            "–",
            _num(li["mean_chunk_chars"], 0),
            _num(kw["mean_chunk_chars"], 0),
        ),
        ("Laufzeit (s)", _num(kw["wall_s"]), _num(rerun["wall_s"]), _num(li["wall_s"]), _num(raw["wall_s"])),
        ("Dokumente/s", _num(kw["documents_per_s"], 3), "–", _num(li["documents_per_s"], 3), "–"),
        ("Abschnitte/s", _num(kw["chunks_per_s"]), "–", _num(li["chunks_per_s"]), _num(raw["chunks_per_s"])),
        (
            "Zeichen/s",
            _num(kw["chars_per_s"], 0),
            "–",
            _num(li["chars_per_s"], 0),
            _num(raw["chars_per_s"], 0),
        ),
        (
            "Spitzen-RAM Prozess (MB)",
            _num(kw["peak_rss_mb"], 0),
            "–",
            _num(li["peak_rss_mb"], 0),
            _num(raw["peak_rss_mb"], 0),
        ),
        (
            "Spitzen-RAM inkl. Hilfsprozesse (MB)",
            _num(kw["peak_tree_rss_mb"], 0),
            "–",
            _num(li["peak_tree_rss_mb"], 0),
            "–",
        ),
    ]
    for row in rows:
        table.add_row(*row)
    console.print(table)

    r = result["ratios"]
    ratios = Table(title="Verhältnisse")
    ratios.add_column("Vergleich")
    ratios.add_column("Wert", justify="right")
    ratios.add_column("Ziel", justify="right")
    ratios.add_row("Laufzeit Kreiswissen / LlamaIndex", _num(r["kreiswissen_vs_llamaindex_wall"]), "")
    ratios.add_row(
        "Dokumente/s Kreiswissen / LlamaIndex", _num(r["kreiswissen_vs_llamaindex_documents_per_s"]), ""
    )
    ratios.add_row(
        "Abschnitte/s Kreiswissen / LlamaIndex", _num(r["kreiswissen_vs_llamaindex_chunks_per_s"]), ""
    )
    ratios.add_row("Zeichen/s Kreiswissen / LlamaIndex", _num(r["kreiswissen_vs_llamaindex_chars_per_s"]), "")
    ratios.add_row("Spitzen-RAM Kreiswissen / LlamaIndex", _num(r["kreiswissen_vs_llamaindex_peak_rss"]), "")
    ratios.add_row(
        "Abschnitte/s Embedding allein / Kreiswissen", _num(r["raw_vs_pipeline_chunks_per_s"]), "≤ 1,3"
    )
    ratios.add_row("Erneuter Lauf / erster Lauf (Laufzeit)", _pct(r["rerun_share"]), "< 5 %")
    console.print(ratios)

    b = result["batching"]
    if b["chunks_per_s_by_batch_size"]:
        batches = Table(title=f"Batch-Größe beim Embedding ({b['sample']} Abschnitte)")
        batches.add_column("Batch-Größe", justify="right")
        batches.add_column("Abschnitte/s", justify="right")
        batches.add_column("relativ zu 32", justify="right")
        rates = b["chunks_per_s_by_batch_size"]
        base = rates.get("32")
        for size, rate in rates.items():
            batches.add_row(size, _num(rate), _num(_ratio(rate, base)))
        console.print(batches)
    console.print(
        f"Beim Indexieren: {b['ingest_batches']} Batches, Ø {_num(b['ingest_mean_batch'], 1)} Abschnitte je Batch "
        f"(eingestellt: {b['configured_batch_size']}; Kreiswissen bettet je Datei ein)."
    )
    if result["kreiswissen"]["failed"]:
        console.print(f"[yellow]Nicht indexiert:[/yellow] {len(result['kreiswissen']['failed'])} Dateien")


@bench_app.command("ingest")
def bench_ingest_command(
    folder: Annotated[Path, typer.Argument(help="Ordner mit Dokumenten")],
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="Nur die ersten N Dateien (sortiert), für kurze Läufe"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Ergebnisse zusätzlich als JSON in diese Datei")
    ] = None,
    batch_sample: Annotated[
        int,
        typer.Option("--batch-sample", min=0, help="Abschnitte für den Vergleich der Batch-Größen (0 = aus)"),
    ] = 48,
) -> None:
    """Indexierung messen: Kreiswissen, erneuter Lauf, LlamaIndex-Standard und Embedding allein."""
    try:
        result = run_bench(folder, limit=limit, batch_sample=batch_sample, on_step=console.print)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        console.print(f"[red]Fehler:[/red] {exc}")
        raise typer.Exit(2) from exc
    print_result(result)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
        console.print(f"Ergebnisse gespeichert: {out}")
