"""`kreiswissen ingest` as an admin (and `make run`) calls it: the installed console script in its own
process, whose file-reading workers inherit its sys.path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_console_script_indexes_a_folder(tmp_path: Path) -> None:
    # odfpy put its package folder on sys.path; the workers then imported odf/text.py as `text` and
    # every file failed ("Leseprogramm zum Absturz gebracht") — only from the console script.
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(ROOT / "corpus" / "faq-meldewesen.md", docs)
    script = Path(sys.executable).parent / "kreiswissen"
    env = os.environ | {"KREISWISSEN_DATA_DIR": str(tmp_path / "data")}
    run = subprocess.run(
        [str(script), "ingest", str(docs)], capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path
    )
    out = " ".join((run.stdout + run.stderr).split())
    assert run.returncode == 0, out
    assert "1 neu" in out and "0 fehlgeschlagen" in out, out
