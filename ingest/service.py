"""The ingest use case: bring a collection in step with its folders, incrementally and crash-safe.

Order of writes per file: vectors first (upsert, deterministic ids), then the catalog transaction,
then removal of the file's superseded vectors. A crash at any point leaves at worst orphan vectors,
which the next run removes (`IndexStore.reconcile`) and which retrieval ignores meanwhile.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from embedding.backends import build_embed_model, embedding_name
from embedding.client import EmbeddingServiceError
from kreiswissen.files import file_sha256, inside_any
from kreiswissen.schema import Chunk
from kreiswissen.settings import Settings
from store.catalog import FileRecord, generation_key
from store.index_store import IndexStore, embed_text
from text.german_text import analyze
from text.sentence_units import split_units

from .loaders import SUPPORTED_SUFFIXES, LoadError
from .prefetch import ParseAhead, ParsedFile, Ticket
from .progress import Progress, ProgressCallback
from .sandbox import LoaderSandbox

log = logging.getLogger(__name__)

# Bump when loaders or the chunker change what they produce: unchanged files are then re-chunked
# (their embeddings are re-used wherever a chunk's text stays the same).
PIPELINE_VERSION = 6  # 3: sentence units with vectors; 4: originals rendered at ingest, HTML/encodings; 5: a sentence stays with its list; 6: where pages begin inside a chunk, PDF structure (#25)


@dataclass
class IngestReport:
    collection: str
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # unchanged since the last run
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, German reason)
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_reused: int = 0  # embeddings taken over from an earlier version or a renamed file
    cancelled: bool = False
    seconds: float = 0.0
    error: str = ""  # German reason when the run stopped early (e.g. the embeddings server failed)

    def as_dict(self) -> dict:
        return asdict(self)

    def summary_de(self) -> str:
        text = (
            f"Sammlung „{self.collection}“: {len(self.added)} neu, {len(self.changed)} geändert, "
            f"{len(self.renamed)} umbenannt, {len(self.removed)} entfernt, {len(self.skipped)} unverändert, "
            f"{len(self.failed)} fehlgeschlagen; {self.chunks_added} Abschnitte indexiert "
            f"in {self.seconds:.1f} s."
        )
        return text + (" Abgebrochen." if self.cancelled else "")


def discover(paths: list[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Supported files under the given files/folders, sorted, and the ones refused with a reason.

    Hidden files and folders are skipped; symbolic links that lead out of the folder are refused,
    since everything indexed may be shown to every user of the collection.
    """
    found: set[Path] = set()
    refused: list[tuple[str, str]] = []
    for root in paths:
        root = root.resolve()
        if root.is_file():
            found.add(root)
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if name.startswith(".") or Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                    continue
                path = Path(dirpath) / name
                target = path.resolve()
                if target != root and root not in target.parents:
                    refused.append((str(path), "Verknüpfung zeigt auf eine Datei außerhalb des Ordners"))
                    continue
                found.add(path)
    return sorted(found), refused


def _bytes_to_do(files: list[Path], known: dict[str, FileRecord], stale: bool) -> int:
    """Total size of the files that will need work: new, changed, or made by another pipeline."""
    total = 0
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            continue
        old = known.get(str(path))
        if stale or not old or old.size != stat.st_size or old.mtime != stat.st_mtime:
            total += stat.st_size
    return total


@dataclass
class _Job:
    """A file that needs (re)indexing."""

    path: Path
    key: str
    sha: str
    stat: os.stat_result
    old: FileRecord | None
    renamed_from: str | None
    ticket: Ticket | None = None


@dataclass
class _Ready:
    """A file read and chunked, with the vectors it can keep and the texts still to embed."""

    job: _Job
    parsed: ParsedFile
    texts: list[str]  # what is embedded for each chunk
    reusable: dict[str, list[float]]  # chunk vectors of an earlier version, by text
    known: dict[str, bytes]  # sentence-unit vectors of an earlier version, by text
    todo: list[str]


def _f16(vector: list[float]) -> bytes:
    return np.asarray(vector, dtype=np.float16).tobytes()


class IngestService:
    def __init__(self, settings: Settings, store: IndexStore | None = None) -> None:
        self.settings = settings
        self.store = store or IndexStore(settings)
        self.embed_model = build_embed_model(settings.embedding)
        self.embedding = embedding_name(settings.embedding)
        r = settings.retrieval
        self.pipeline = f"v{PIPELINE_VERSION}|size={r.chunk_size}|min={r.chunk_min}"
        self.sandbox = LoaderSandbox.for_settings(settings)

    def ingest(
        self,
        paths: list[Path],
        collection: str | None = None,
        full: bool = False,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> IngestReport:
        collection = collection or self.settings.collection
        started = time.time()
        report = IngestReport(collection=collection)
        roots = [p.resolve() for p in paths]
        for root in roots:
            if not root.exists():
                raise FileNotFoundError(f"Ordner oder Datei nicht gefunden: {root}")
        catalog = self.store.catalog
        folders = [str(r) for r in roots if r.is_dir()]
        catalog.ensure_collection(
            collection, self.embedding, folders, self.settings.access.default_groups, check_embedding=not full
        )
        # A full rebuild fills the next generation beside the current one, which keeps answering
        # until the switch at the end; a cancelled, failed or killed rebuild leaves it untouched.
        current = key = catalog.current_key(collection)
        if full:
            generation = catalog.generation(collection)
            key = generation_key(collection, generation + 1)
            self.store.discard(key)  # leftovers of an interrupted rebuild
            if generation > 0:
                self.store.discard(generation_key(collection, generation - 1))  # of an interrupted switch
        elif not catalog.files(key):
            # An empty collection is filled by this pipeline: a killed first run must not mark
            # what it managed to index as stale.
            catalog.set_pipeline(collection, self.pipeline)
        run_id = catalog.start_run(collection)
        status = "failed"
        try:
            self.store.reconcile(key)
            self._run(key, roots, report, progress, cancel)
            status = "cancelled" if report.cancelled else "done"
            if not report.cancelled and full:
                catalog.switch_generation(collection, key, self.embedding, self.pipeline, folders)
                self.store.discard(current)
            elif not report.cancelled:
                catalog.mark_indexed(collection, self.pipeline)
        except EmbeddingServiceError as exc:
            done = len(report.added) + len(report.changed) + len(report.renamed)
            report.error = (
                f"{exc} Die Indexierung wurde angehalten: {done} Dateien sind vollständig indexiert, "
                "die übrigen werden beim nächsten Lauf indexiert."
            )
            raise EmbeddingServiceError(report.error) from exc
        finally:
            if full and status != "done":
                self.store.discard(key)
            self.sandbox.close()  # the worker process is started again by the next run
            report.seconds = time.time() - started
            catalog.finish_run(run_id, status, report.as_dict())
        log.info("ingest %s: %s", collection, report.summary_de())
        return report

    def _run(
        self,
        collection: str,
        roots: list[Path],
        report: IngestReport,
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> None:
        catalog = self.store.catalog
        known = {p: r for p, r in catalog.files(collection).items() if inside_any(Path(p), roots)}
        stale = catalog.pipeline(collection) != self.pipeline  # chunks made by another pipeline
        files, refused = discover(roots)
        report.failed += refused
        on_disk = {str(p) for p in files}
        gone = {p: r for p, r in known.items() if p not in on_disk}
        gone_by_sha = {r.sha256: p for p, r in gone.items()}
        state = Progress(files_total=len(files), bytes_total=_bytes_to_do(files, known, stale))
        jobs = self._jobs(collection, files, known, stale, gone_by_sha, report, state, progress, cancel)
        if self.settings.ingest.pipeline == "sequential":
            self._run_sequential(collection, jobs, report, state, gone, progress)
        else:
            self._run_overlapped(collection, jobs, report, state, gone, progress, cancel)
        if not report.cancelled:
            # Removals only after a complete pass: a cancelled run must not drop what it did not see.
            for path_str in gone:
                self._remove(collection, path_str, report)
        state.current = ""
        if progress:
            progress(state)

    def _jobs(
        self,
        collection: str,
        files: list[Path],
        known: dict[str, FileRecord],
        stale: bool,
        gone_by_sha: dict[str, str],
        report: IngestReport,
        state: Progress,
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> Iterator[_Job]:
        """The files that need (re)indexing, in order; unchanged ones are recorded as skipped."""
        catalog = self.store.catalog
        for path in files:
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                return
            key = str(path)
            try:
                stat = path.stat()
                old = known.get(key)
                if old and not stale and old.size == stat.st_size and old.mtime == stat.st_mtime:
                    report.skipped.append(key)
                    state.files_done += 1
                    continue
                state.work_started = state.work_started or time.time()
                sha = file_sha256(path)
            except OSError as exc:
                self._failed(key, exc, report, state, 0)
                continue
            if old and not stale and old.sha256 == sha:
                # Touched but not changed: refresh the manifest, keep the chunks.
                catalog.touch_file(collection, key, stat.st_mtime)
                report.skipped.append(key)
                state.bytes_total -= stat.st_size
                state.files_done += 1
                continue
            renamed_from = gone_by_sha.pop(sha, None) if not old else None
            yield _Job(path, key, sha, stat, old, renamed_from)

    def _failed(self, key: str, exc: Exception, report: IngestReport, state: Progress, work: int) -> None:
        log.warning("skipped %s: %s", key, exc)
        if isinstance(exc, OSError):
            report.failed.append((key, f"Datei konnte nicht gelesen werden ({exc.strerror or exc})"))
        else:
            report.failed.append((key, str(exc)))
        state.files_done += 1
        state.bytes_done += work

    def _done(
        self, collection: str, job: _Job, chunks: int, report: IngestReport, gone: dict, state: Progress
    ) -> None:
        state.chunks_done += chunks
        state.files_done += 1
        state.bytes_done += job.stat.st_size
        if job.renamed_from:
            gone.pop(job.renamed_from, None)
            self._remove(collection, job.renamed_from, report, count=False)
            report.renamed.append(f"{job.renamed_from} → {job.key}")
        else:
            (report.changed if job.old else report.added).append(job.key)

    def _run_sequential(
        self,
        collection: str,
        jobs: Iterator[_Job],
        report: IngestReport,
        state: Progress,
        gone: dict,
        progress: ProgressCallback | None,
    ) -> None:
        """Read, embed and write one file after the other (the earlier pipeline)."""
        for job in jobs:
            state.current = job.path.name
            if progress:
                progress(state)
            try:
                n = self._index_file(collection, job.path, job.sha, job.stat, job.renamed_from, report)
            except (LoadError, OSError) as exc:
                self._failed(job.key, exc, report, state, job.stat.st_size)
                continue
            self._done(collection, job, n, report, gone, state)

    def _run_overlapped(
        self,
        collection: str,
        jobs: Iterator[_Job],
        report: IngestReport,
        state: Progress,
        gone: dict,
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
    ) -> None:
        """Worker processes read the next files while this process embeds; the texts of several
        files share batches; each file is still written on its own, vectors first, then catalog."""
        settings, retrieval = self.settings.ingest, self.settings.retrieval
        ahead = ParseAhead(self.sandbox, settings.parse_workers, retrieval.chunk_size, retrieval.chunk_min)
        window: deque[_Job] = deque()  # submitted to the workers, in order
        ready: list[_Ready] = []  # read, waiting for their embeddings
        target = max(1, self.embed_model.embed_batch_size)
        ahead_max = max(1, settings.prefetch_files)

        def refill() -> None:
            while len(window) < ahead_max:
                job = next(jobs, None)
                if job is None:
                    return
                if job.stat.st_size > settings.max_file_mb * 1e6:
                    error = LoadError(
                        f"Datei ist größer als {settings.max_file_mb:g} MB und wird nicht indexiert"
                    )
                    self._failed(job.key, error, report, state, job.stat.st_size)
                    continue
                job.ticket = ahead.submit(job.path)
                window.append(job)

        try:
            refill()
            while window or ready:
                if cancel is not None and cancel.is_set():
                    report.cancelled = True
                    return
                waiting = sum(len(r.todo) for r in ready)
                # Take the next file while the batch is not full; but rather than let the embedder
                # idle while a slow file is still being read, embed what is ready.
                if window and waiting < target and (not ready or window[0].ticket.future.done()):
                    job = window.popleft()
                    refill()  # keep the workers busy
                    state.current = job.path.name
                    if progress:
                        progress(state)
                    try:
                        ready.append(self._prepare(collection, job, ahead.result(job.ticket)))
                    except (LoadError, OSError) as exc:
                        self._failed(job.key, exc, report, state, job.stat.st_size)
                    continue
                vectors = self._embed_ready(ready, state, progress, target)
                for item in ready:
                    n = self._write(collection, item, vectors, report)
                    self._done(collection, item.job, n, report, gone, state)
                    if progress:
                        progress(state)
                ready = []
        finally:
            ahead.close()

    def _embed_ready(
        self, ready: list[_Ready], state: Progress, progress: ProgressCallback | None, target: int
    ) -> dict[str, list[float]]:
        """Embed what the ready files need, in slices, so that progress (and the time remaining)
        moves on while a 500-page manual embeds, not only when a file is written. Progress counts
        characters embedded, not texts: the texts go shortest first (sentence units, then chunks),
        and by count the many quick units made the time remaining look 20–40 % too short."""
        texts = sorted({t for r in ready for t in r.todo}, key=len)
        size = sum(r.job.stat.st_size for r in ready)
        chars = sum(map(len, texts)) or 1
        base = state.bytes_done
        vectors: dict[str, list[float]] = {}
        step = target * 4
        embedded = 0
        for start in range(0, len(texts), step):
            part = texts[start : start + step]
            vectors |= self.embed_texts(part)
            embedded += sum(map(len, part))
            if progress and start + step < len(texts):
                state.bytes_done = base + int(size * embedded / chars)
                progress(state)
        state.bytes_done = base  # each file's bytes count in full when it is written
        return vectors

    def embed_texts(self, texts: list[str]) -> dict[str, list[float]]:
        """Passage vectors of texts (chunks and sentence units alike), by text. Every embedding of
        the overlapped pipeline goes through here: similar lengths are batched together, which
        spares padding in backends that pad a batch to its longest text."""
        unique = sorted(set(texts), key=len)
        if not unique:
            return {}
        return dict(zip(unique, self.embed_model.get_text_embedding_batch(unique), strict=True))

    def _prepare(self, collection: str, job: _Job, parsed: ParsedFile) -> _Ready:
        if not parsed.chunks:
            raise LoadError("Datei enthält keinen verwertbaren Text")
        texts = [embed_text(c) for c in parsed.chunks]
        paths = [job.key, job.renamed_from]
        reusable = self._reusable_embeddings(collection, paths)
        old_ids = [cid for p in paths if p for cid in self.store.catalog.chunk_ids(collection, p)]
        known = {t: v for rows in self.store.catalog.sentences(old_ids).values() for t, v in rows}
        todo = [t for t in texts if t not in reusable]
        todo += [u for units in parsed.units for u in units if u not in known]
        return _Ready(job, parsed, texts, reusable, known, list(dict.fromkeys(todo)))

    def _write(
        self, collection: str, item: _Ready, vectors: dict[str, list[float]], report: IngestReport
    ) -> int:
        job, chunks = item.job, item.parsed.chunks
        embeddings = [item.reusable[t] if t in item.reusable else vectors[t] for t in item.texts]
        report.chunks_reused += sum(t in item.reusable for t in item.texts)
        sentences = [
            [(u, item.known[u] if u in item.known else _f16(vectors[u])) for u in units]
            for units in item.parsed.units
        ]
        self.store.add_chunks(collection, chunks, embeddings)
        record = FileRecord(
            path=job.key,
            sha256=job.sha,
            size=job.stat.st_size,
            mtime=job.stat.st_mtime,
            title=item.parsed.title,
            chunks=len(chunks),
            indexed_at=time.time(),
        )
        catalog = self.store.catalog
        superseded = catalog.replace_file(collection, record, chunks, item.parsed.tokens, sentences)
        self.store.delete_chunks(collection, superseded)
        report.chunks_added += len(chunks)
        report.chunks_removed += len(superseded)
        return len(chunks)

    def _remove(self, collection: str, path: str, report: IngestReport, count: bool = True) -> None:
        ids = self.store.catalog.remove_file(collection, path)
        self.store.delete_chunks(collection, ids)
        if count:
            report.removed.append(path)
            report.chunks_removed += len(ids)

    def _index_file(
        self,
        collection: str,
        path: Path,
        sha: str,
        stat: os.stat_result,
        renamed_from: str | None,
        report: IngestReport,
    ) -> int:
        if stat.st_size > self.settings.ingest.max_file_mb * 1e6:
            raise LoadError(
                f"Datei ist größer als {self.settings.ingest.max_file_mb:g} MB und wird nicht indexiert"
            )
        retrieval = self.settings.retrieval
        title, chunks = self.sandbox.run(path, retrieval.chunk_size, retrieval.chunk_min)
        if not chunks:
            raise LoadError("Datei enthält keinen verwertbaren Text")
        texts = [embed_text(c) for c in chunks]
        reusable = self._reusable_embeddings(collection, [str(path), renamed_from])
        missing = [i for i, t in enumerate(texts) if t not in reusable]
        fresh = self.embed_model.get_text_embedding_batch([texts[i] for i in missing]) if missing else []
        vectors = dict(zip(missing, fresh, strict=True))
        embeddings = [vectors[i] if i in vectors else reusable[t] for i, t in enumerate(texts)]
        report.chunks_reused += len(chunks) - len(missing)
        sentences = self._sentence_vectors(collection, chunks, [str(path), renamed_from])

        self.store.add_chunks(collection, chunks, embeddings)
        record = FileRecord(
            path=str(path),
            sha256=sha,
            size=stat.st_size,
            mtime=stat.st_mtime,
            title=title,
            chunks=len(chunks),
            indexed_at=time.time(),
        )
        tokens = [" ".join(analyze(f"{c.heading_line}\n{c.text}")) for c in chunks]
        superseded = self.store.catalog.replace_file(collection, record, chunks, tokens, sentences)
        self.store.delete_chunks(collection, superseded)
        report.chunks_added += len(chunks)
        report.chunks_removed += len(superseded)
        return len(chunks)

    def _sentence_vectors(
        self, collection: str, chunks: list[Chunk], paths: list[str | None]
    ) -> list[list[tuple[str, bytes]]]:
        """Sentence units of each chunk with their float16 vectors; units whose text an earlier
        version of the file already had keep their vector."""
        catalog = self.store.catalog
        old_ids = [cid for p in paths if p for cid in catalog.chunk_ids(collection, p)]
        known = {text: vec for rows in catalog.sentences(old_ids).values() for text, vec in rows}
        units = [split_units(c.text) for c in chunks]
        todo = list(dict.fromkeys(u for us in units for u in us if u not in known))
        if todo:
            fresh = self.embed_model.get_text_embedding_batch(todo)
            known |= {t: np.asarray(v, dtype=np.float16).tobytes() for t, v in zip(todo, fresh, strict=True)}
        return [[(u, known[u]) for u in us] for us in units]

    def _reusable_embeddings(self, collection: str, paths: list[str | None]) -> dict[str, list[float]]:
        """Embeddings of chunks already stored for these paths, keyed by the text that was embedded."""
        old: list[Chunk] = []
        for p in paths:
            if p:
                old += self.store.catalog.chunks(collection, self.store.catalog.chunk_ids(collection, p))
        if not old:
            return {}
        by_id = self.store.embeddings(collection, [c.id for c in old])
        return {embed_text(c): list(by_id[c.id]) for c in old if c.id in by_id}
