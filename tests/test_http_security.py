"""Serving originals over HTTP: only files of indexed folders, no way out of them."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ingest.service import IngestService
from rag.answer_service import AnswerService
from tests.conftest import CORPUS, make_settings, serve
from ui.server import create_server


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    docs = root / "freigegeben"
    docs.mkdir()
    (docs / "regel.md").write_text(
        "# Regel\n\n## 1 Frist\n\nDie Frist beträgt zwei Wochen.\n", encoding="utf-8"
    )
    secret = root / "personalakte.md"
    secret.write_text("# Geheim\n\n## 1 Gehalt\n\nDas Gehalt beträgt 9.999 Euro.\n", encoding="utf-8")
    (docs / "verknuepfung.md").symlink_to(secret)
    pdf = next(iter(sorted(CORPUS.glob("*.pdf"))))
    (docs / pdf.name).write_bytes(pdf.read_bytes())
    settings = make_settings(root / "data")
    report = IngestService(settings).ingest([docs])
    service = AnswerService(settings)
    with serve(create_server(settings, service)) as url:
        yield url, service, report, secret


def test_symlink_out_of_the_folder_is_not_indexed(site) -> None:
    _, service, report, _ = site
    failed = {Path(p).name: reason for p, reason in report.failed}
    assert "außerhalb des Ordners" in failed["verknuepfung.md"]
    texts = " ".join(c.text for c in service.store.catalog.chunks(service.settings.collection))
    assert "9.999" not in texts


def test_indexed_documents_are_served(site) -> None:
    url, service, _, _ = site
    chunks = service.store.catalog.chunks(service.settings.collection)
    pdf = next(c for c in chunks if c.source_path.endswith(".pdf"))
    response = httpx.get(f"{url}/dokument/{pdf.id}")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    md = next(c for c in chunks if c.source_path.endswith("regel.md"))
    page = httpx.get(f"{url}/dokument/{md.id}")
    assert page.status_code == 200 and "zwei Wochen" in page.text and 'lang="de"' in page.text


@pytest.mark.parametrize(
    "path",
    [
        "/dokument/../../../../etc/passwd",
        "/dokument/..%2F..%2F..%2Fetc%2Fpasswd",
        "/dokument/%2Fetc%2Fpasswd",
        "/dokument//etc/passwd",
        "/dokument/personalakte.md",
        "/dokument/" + "0" * 32,
    ],
)
def test_traversal_and_unknown_ids_are_refused(site, path: str) -> None:
    url = site[0]
    response = httpx.get(url + path)
    assert response.status_code in (404, 422)
    assert "root:" not in response.text and "9.999" not in response.text


def test_a_file_moved_out_of_the_folder_is_no_longer_served(site, tmp_path) -> None:
    url, service, _, _ = site
    chunk = next(
        c
        for c in service.store.catalog.chunks(service.settings.collection)
        if c.source_path.endswith("regel.md")
    )
    original = Path(chunk.source_path)
    moved = tmp_path / "regel.md"
    original.rename(moved)
    original.symlink_to(moved)  # same name in the folder, now pointing outside it
    try:
        assert httpx.get(f"{url}/dokument/{chunk.id}").status_code == 404
    finally:
        original.unlink()
        moved.rename(original)
