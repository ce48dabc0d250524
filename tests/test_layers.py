"""The import direction (contracts in pyproject.toml, checked by import-linter): cli > eval > ui >
rag | ingest > store | embedding > text > kreiswissen core. The second test shows the check has
teeth: the same contracts, run on a copy of the code where the store imports the UI, fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["cli", "eval", "ui", "rag", "ingest", "store", "embedding", "text", "kreiswissen"]
CONTRACT = "Layers: cli > eval > ui > rag | ingest > store | embedding > text > kreiswissen core"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    lint = Path(sys.executable).parent / "lint-imports"
    return subprocess.run(
        [str(lint), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_code_keeps_the_layers() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken." in result.stdout


def test_a_lower_layer_importing_a_higher_one_breaks_the_contract(tmp_path: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    catalog = tmp_path / "store" / "catalog.py"
    catalog.write_text(catalog.read_text(encoding="utf-8") + "\nimport ui  # noqa: E402\n", encoding="utf-8")

    result = lint_imports(tmp_path)

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"{CONTRACT} BROKEN" in " ".join(output.split()), output
    assert "store.catalog -> ui" in output, output
