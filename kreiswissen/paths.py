"""Path containment: whether a file or folder lies in one of some folders (indexed, admin-allowed)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def inside_any(path: Path, roots: Iterable[Path]) -> bool:
    """`path` is one of `roots` or lies below one. Compares as given: callers resolve links first
    where they must."""
    return any(path == r or r in path.parents for r in roots)
