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
EXTRAPOLATE_CHUNKS = 200_000  # a county's document folders
ETA_CHECKPOINTS = (0.1, 0.25, 0.5, 0.75, 0.9)  # shares of the run at which the estimate is judged
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
    from embedding.backends import build_embed_model

    model = build_embed_model(settings.embedding)
    model.get_text_embedding_batch([WARM_UP])
    return model


def eta_accuracy(samples: list[tuple[float, float | None]], wall: float) -> dict:
    """How far the estimated time remaining was from the actual, as a share of the actual.

    samples: (seconds since start, estimate shown then). Judged at the last estimate shown before
    each checkpoint (10 %, 25 % ... of the run), and as the worst error between 10 % and 90 %.
    """
    errors: list[tuple[float, float]] = []
    for t, eta in samples:
        remaining = wall - t
        if eta is not None and remaining > 0 and 0.1 * wall <= t <= 0.9 * wall:
            errors.append((t / wall, (eta - remaining) / remaining))
    at: dict[str, float | None] = {}
    for share in ETA_CHECKPOINTS:
        shown = [e for s, e in errors if s <= share]
        at[f"{share:.2f}"] = shown[-1] if shown else None
    return {
        "samples": len(samples),
        "judged": len(errors),
        "error_at": at,
        "max_abs_error": max((abs(e) for _, e in errors), default=None),
        "first_estimate_s": next((t for t, eta in samples if eta is not None), None),
    }


def _batch_counter():
    """A LlamaIndex callback that counts embedding batches (without keeping their payloads)."""
    from llama_index.core.callbacks import CBEventType
    from llama_index.core.callbacks.base_handler import BaseCallbackHandler

    class BatchCounter(BaseCallbackHandler):
        def __init__(self) -> None:
            super().__init__([], [])
            self.batches = 0

        def on_event_start(self, event_type, payload=None, event_id="", parent_id="", **kwargs) -> str:
            if event_type == CBEventType.EMBEDDING:
                self.batches += 1
            return event_id

        def on_event_end(self, event_type, payload=None, event_id="", **kwargs) -> None:
            return None

        def start_trace(self, trace_id=None) -> None:
            return None

        def end_trace(self, trace_id=None, trace_map=None) -> None:
            return None

    return BatchCounter()


def _kreiswissen_child(settings_data: dict, files: list[str]) -> dict:
    from llama_index.core.callbacks import CallbackManager

    from ingest.service import IngestService

    settings = Settings.model_validate(settings_data)
    service = IngestService(settings)
    _embedder(settings)  # the same cached instance the service uses: loaded and warm
    counter = _batch_counter()
    service.embed_model.callback_manager = CallbackManager([counter])
    paths = [Path(f) for f in files]
    rss_before = _peak_rss_mb()
    samples: list[tuple[float, float | None]] = []
    with _TreeMemory() as tree:
        started = time.perf_counter()

        def on_progress(p) -> None:
            samples.append((time.perf_counter() - started, p.eta_seconds()))

        report = service.ingest(paths, collection=BENCH_COLLECTION, progress=on_progress)
        wall = time.perf_counter() - started
        batches = counter.batches
        peak_first = _peak_rss_mb()
        started = time.perf_counter()
        again = service.ingest(paths, collection=BENCH_COLLECTION)
        rerun_wall = time.perf_counter() - started
    records = service.store.catalog.files(BENCH_COLLECTION)
    catalog = service.store.catalog
    units = catalog.sentence_count(catalog.current_key(BENCH_COLLECTION))
    return {
        "pipeline": settings.ingest.pipeline,
        "sentence_units": units,
        "embedding_batches": batches,
        "eta": eta_accuracy(samples, wall),
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
    from store.catalog import Catalog
    from store.index_store import embed_text

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
    """The files Kreiswissen would index under folder, sorted; the first `limit` of them. Raises
    when the folder is missing or holds none."""
    from ingest.service import discover

    if not folder.is_dir():
        raise FileNotFoundError(f"Ordner nicht gefunden: {folder}")
    files, _ = discover([folder])
    files = files[:limit] if limit else files
    if not files:
        raise ValueError(f"Keine unterstützten Dateien in {folder}")
    return files


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
    files = bench_files(folder, limit)
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

    from embedding.backends import embedding_name

    kw_chars = raw["embedded_chars"]
    kreiswissen = _figures(kw) | {
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
    # Counted during the ingest: batches of chunk texts and sentence units together.
    size = settings.embedding.batch_size
    batches = kw["embedding_batches"]
    batching = {
        "configured_batch_size": size,
        "ingest_batches": batches,
        "ingest_mean_batch": _rate(kw["chunks"] + kw["sentence_units"], batches),
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
        "machine": _machine(),
        "kreiswissen": kreiswissen,
        "rerun": rerun,
        "llamaindex": llamaindex,
        "raw_embedding": raw_embedding,
        "batching": batching,
        "ratios": ratios,
    }


def _variant(settings: Settings, spec: str) -> Settings:
    """`ingest.pipeline=sequential,embedding.backend=use` on top of settings."""
    from eval.runner import apply_overrides

    return apply_overrides(settings, [part for part in spec.split(",") if part.strip()])


def _figures(kw: dict) -> dict:
    """Rates of one Kreiswissen run and what they mean for a county's folders."""
    chunks_per_s = _rate(kw["chunks"], kw["wall_s"])
    return kw | {
        "documents_per_s": _rate(kw["documents"], kw["wall_s"]),
        "chunks_per_s": chunks_per_s,
        "hours_for_200k_chunks": EXTRAPOLATE_CHUNKS / chunks_per_s / 3600 if chunks_per_s else None,
    }


def run_compare(
    folder: Path,
    variants: list[str],
    limit: int | None = None,
    settings: Settings | None = None,
    work_dir: Path | None = None,
    on_step: Callable[[str], None] | None = None,
) -> dict:
    """Kreiswissen's ingest with the configured settings and with each variant, on the same files,
    each into a fresh index in its own process; chunks/s, the ratio to the first, the time for
    200,000 chunks, and how well the estimated time remaining held."""
    files = bench_files(folder, limit)
    settings = settings or get_settings()
    step = on_step or (lambda _text: None)
    from embedding.backends import embedding_name

    runs: list[dict] = []
    tmp = Path(tempfile.mkdtemp(prefix="kreiswissen-bench-", dir=work_dir))
    try:
        for n, spec in enumerate(["", *variants]):
            variant = _variant(settings, spec)
            variant = variant.model_copy(
                update={
                    "data_dir": tmp / f"data-{n}",
                    "chroma": variant.chroma.model_copy(update={"mode": "persistent"}),
                }
            )
            label = spec or "eingestellt"
            step(f"Kreiswissen ({label}): Indexieren und erneuter Lauf ohne Änderungen …")
            kw = _in_child("kreiswissen", variant.model_dump(mode="json"), [str(f) for f in files])
            runs.append(
                _figures(kw)
                | {
                    "label": label,
                    "embedding": embedding_name(variant.embedding),
                    "batch_size": variant.embedding.batch_size,
                }
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    base = runs[0]["chunks_per_s"]
    for run in runs:
        run["chunks_per_s_vs_first"] = _ratio(run["chunks_per_s"], base)
    return {
        "folder": str(folder.resolve()),
        "limit": limit,
        "files": [f.name for f in files],
        "machine": _machine(),
        "runs": runs,
    }


def _machine() -> dict:
    flags: list[str] = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                have = set(line.split(":", 1)[1].split())
                flags = [
                    f for f in ("avx2", "fma", "f16c", "avx512f", "avx512_bf16", "amx_tile") if f in have
                ]
                break
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "cpus": os.cpu_count(),
        "cpu_flags": flags,
        "load_1min_at_end": load,
        "platform": platform.platform(),
        "python": platform.python_version(),
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
        f"Beim Indexieren: {b['ingest_batches']} Batches, Ø {_num(b['ingest_mean_batch'], 1)} Abschnitte "
        f"und Satz-Einheiten je Batch (eingestellt: {b['configured_batch_size']}; Pipeline "
        f"{kw['pipeline']})."
    )
    if result["kreiswissen"]["failed"]:
        console.print(f"[yellow]Nicht indexiert:[/yellow] {len(result['kreiswissen']['failed'])} Dateien")
    _print_outlook(result["kreiswissen"])
    _print_machine(result["machine"])


def _hours(value: float | None) -> str:
    return "–" if value is None else f"{_num(value, 1)} h"


def _eta_errors(eta: dict) -> str:
    """How far the estimated time remaining was off, at each judged share of the run."""
    return ", ".join(f"{_pct(float(k))}: {_pct(v)}" for k, v in eta["error_at"].items() if v is not None)


def _print_outlook(kw: dict) -> None:
    console.print(
        f"Hochgerechnet auf {_num(EXTRAPOLATE_CHUNKS, 0)} Abschnitte: {_hours(kw['hours_for_200k_chunks'])} "
        f"bei {_num(kw['chunks_per_s'])} Abschnitten/s (Pipeline {kw['pipeline']}, "
        f"{kw['sentence_units']} Satz-Einheiten mit eigenem Vektor)."
    )
    eta = kw["eta"]
    at = _eta_errors(eta)
    console.print(
        f"Restzeit-Schätzung (Abweichung von der tatsächlichen Restzeit, Ziel ±25 %): {at or '–'}; "
        f"größte Abweichung zwischen 10 % und 90 % der Laufzeit: {_pct(eta['max_abs_error'])} "
        f"({eta['judged']} Schätzungen)."
    )


def _print_machine(machine: dict) -> None:
    load = machine.get("load_1min_at_end")
    console.print(
        f"Rechner: {machine['cpus']} Kerne, CPU-Merkmale {' '.join(machine['cpu_flags']) or '–'}, "
        f"Last (1 min) am Ende {_num(load, 1) if load is not None else '–'}, Python {machine['python']}."
    )


def print_compare(result: dict) -> None:
    """One block per run (readable in a log file as well as in a terminal)."""
    console.print(f"Indexierung: {len(result['files'])} Dateien aus {result['folder']}")
    for run in result["runs"]:
        eta = run["eta"]
        at = _eta_errors(eta)
        console.print(
            f"[bold]{run['label']}[/bold] – {run['embedding']}, Pipeline {run['pipeline']}, "
            f"Batch {run['batch_size']}\n"
            f"  {run['documents']} Dateien, {run['chunks']} Abschnitte, {run['sentence_units']} Satz-Einheiten "
            f"in {_num(run['wall_s'], 1)} s: {_num(run['chunks_per_s'])} Abschnitte/s "
            f"(× {_num(run['chunks_per_s_vs_first'])} gegenüber der ersten Zeile), "
            f"{_num(run['documents_per_s'], 3)} Dateien/s\n"
            f"  {_num(EXTRAPOLATE_CHUNKS, 0)} Abschnitte: {_hours(run['hours_for_200k_chunks'])}; "
            f"Restzeit-Schätzung, Abweichung: {at or '–'} (max. {_pct(eta['max_abs_error'])})"
        )
        if run["failed"]:
            console.print(f"  [yellow]nicht indexiert:[/yellow] {len(run['failed'])} Dateien")
    _print_machine(result["machine"])


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
    compare: Annotated[
        list[str] | None,
        typer.Option(
            "--compare",
            help="Statt der Vergleiche mit LlamaIndex: Kreiswissen zusätzlich mit diesen Einstellungen "
            "messen, z. B. ingest.pipeline=sequential oder embedding.backend=use (wiederholbar; "
            "mehrere Einstellungen mit Komma)",
        ),
    ] = None,
) -> None:
    """Indexierung messen: Kreiswissen, erneuter Lauf, LlamaIndex-Standard und Embedding allein."""
    try:
        if compare:
            result = run_compare(folder, compare, limit=limit, on_step=console.print)
        else:
            result = run_bench(folder, limit=limit, batch_sample=batch_sample, on_step=console.print)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        console.print(f"[red]Fehler:[/red] {exc}")
        raise typer.Exit(2) from exc
    if compare:
        print_compare(result)
    else:
        print_result(result)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
        console.print(f"Ergebnisse gespeichert: {out}")
