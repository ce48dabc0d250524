"""Hostile files stop only themselves: a ZIP bomb disguised as DOCX hits the worker's memory limit, a
500 MB PDF the size limit; the rest of the folder is indexed, originals are rendered at ingest and
served from the cache, and the server keeps answering."""

from __future__ import annotations

import shutil
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from ingest.loaders import LoadError
from ingest.sandbox import LoaderSandbox
from ingest.service import IngestService
from rag.answer_service import AnswerService
from tests.conftest import CORPUS, make_settings, serve
from ui.server import create_server

MINIMAL_DOCX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
        '"/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
        'document.main+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'
    ),
}


def zip_bomb_docx(path: Path, megabytes: int) -> None:
    """A valid DOCX package whose document.xml unpacks to `megabytes` MB (a few MB on disk)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, text in MINIMAL_DOCX_PARTS.items():
            z.writestr(name, text)
        with z.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                       b'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>')  # fmt: skip
            block = b"A" * (1 << 20)
            for _ in range(megabytes):
                part.write(block)
            part.write(b"</w:t></w:r></w:p></w:body></w:document>")


def huge_pdf(path: Path, megabytes: int) -> None:
    """A real PDF padded to `megabytes` MB; sparse on disk, so the test costs no disk space."""
    shutil.copy(next(iter(sorted(CORPUS.glob("*.pdf")))), path)
    with path.open("r+b") as f:
        f.truncate(megabytes << 20)


def test_memory_limit_stops_a_zip_bomb_in_the_worker(tmp_path: Path) -> None:
    bomb = tmp_path / "bombe.docx"
    zip_bomb_docx(bomb, 700)
    assert bomb.stat().st_size < 20 << 20
    sandbox = LoaderSandbox(timeout_s=120, memory_mb=512, cpu_s=60)
    try:
        with pytest.raises(LoadError, match="Arbeitsspeicher"):
            sandbox.run(bomb, 1200, 200)
        # the worker is replaced and reads the next file
        title, chunks = sandbox.run(next(iter(sorted(CORPUS.glob("*.docx")))), 1200, 200)
        assert title and chunks
    finally:
        sandbox.close()


_CPU_LIMIT_CHECK = """
import resource
from ingest.sandbox import Limits
Limits(cpu_s=5).apply()
first = resource.getrlimit(resource.RLIMIT_CPU)[0]
sum(i * i for i in range(3_000_000))  # burn some CPU time
Limits(cpu_s=5).apply()
print(first, resource.getrlimit(resource.RLIMIT_CPU)[0])
"""


def test_cpu_limit_counts_per_file() -> None:
    """The worker is reused: its CPU limit starts anew with each file instead of adding up. Checked in
    a child process: a CPU limit on the test process itself would count every thread it runs."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _CPU_LIMIT_CHECK], capture_output=True, text=True, timeout=120, check=True
    )
    first, second = map(int, done.stdout.split())
    assert second >= first and second > 0


def test_hostile_files_are_reported_the_rest_indexed_and_served(tmp_path: Path) -> None:
    folder = tmp_path / "eingang"
    folder.mkdir()
    for good in ("hausordnung-kreishaus.txt", "beschaffungsrichtlinie.docx", "it-sicherheitsrichtlinie.html"):
        shutil.copy(CORPUS / good, folder / good)
    shutil.copy(next(iter(sorted(CORPUS.glob("*.pdf")))), folder / "gut.pdf")
    zip_bomb_docx(folder / "bombe.docx", 700)
    huge_pdf(folder / "riesig.pdf", 500)

    settings = make_settings(tmp_path / "data")
    settings = settings.model_copy(
        update={"ingest": settings.ingest.model_copy(update={"max_memory_mb": 512})}
    )
    service = AnswerService(settings)
    with serve(create_server(settings, service)) as url:
        report = IngestService(settings, service.store).ingest([folder])
        failed = {Path(p).name: reason for p, reason in report.failed}
        assert set(failed) == {"bombe.docx", "riesig.pdf"}, failed
        assert "Arbeitsspeicher" in failed["bombe.docx"]
        assert "größer als" in failed["riesig.pdf"]
        assert {Path(p).name for p in report.added} == {
            "hausordnung-kreishaus.txt",
            "beschaffungsrichtlinie.docx",
            "it-sicherheitsrichtlinie.html",
            "gut.pdf",
        }

        # The server still answers, and serves the originals from what the sandbox rendered.
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
        chunks = service.store.catalog.chunks(settings.collection)
        originals = settings.index_dir / "originals"
        for suffix, kind in ((".docx", "text/html"), (".html", "text/html"), (".pdf", "application/pdf")):
            chunk = next(c for c in chunks if c.source_path.endswith(suffix))
            started = time.perf_counter()
            response = httpx.get(f"{url}/dokument/{chunk.id}")
            assert response.status_code == 200 and response.headers["content-type"].startswith(kind)
            assert time.perf_counter() - started < 5
            if kind == "text/html":
                assert "default-src 'none'" in response.headers["content-security-policy"]
                assert chunk.text.split()[0] in response.text
        assert len(list(originals.iterdir())) == 4
        # Served from the cache: a file broken after indexing is not parsed again by the web process.
        docx = next(c for c in chunks if c.source_path.endswith(".docx"))
        Path(docx.source_path).write_bytes(b"kaputt")
        page = httpx.get(f"{url}/dokument/{docx.id}")
        assert page.status_code == 200 and docx.text.split()[0] in page.text
        sources = service.retrieve("Wann ist das Kreishaus geöffnet?").sources
        assert any(s.chunk.source_path.endswith("hausordnung-kreishaus.txt") for s in sources)
