"""Files and folders: whether a path lies in one of some folders (indexed, admin-allowed), and the
content hash of a file (the ingest manifest, the rendered originals)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def inside_any(path: Path, roots: Iterable[Path]) -> bool:
    """`path` is one of `roots` or lies below one. Compares as given: callers resolve links first
    where they must."""
    return any(path == r or r in path.parents for r in roots)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
