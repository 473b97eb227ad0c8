"""Store arguments as paths: a path, a glob pattern, or a list of them.

Example:
    >>> expand_paths("acts.h5")
    [PosixPath('acts.h5')]
    >>> expand_paths("acts-shard*of4.h5")          # doctest: +SKIP
    [PosixPath('acts-shard0of4.h5'), ..., PosixPath('acts-shard3of4.h5')]
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path

from neuroheat.errors import StoreError

PathArg = str | os.PathLike
PathsArg = PathArg | Sequence[PathArg]


def is_paths(source: object) -> bool:
    """Whether ``source`` is a path, or a list of paths (not an open store)."""
    if isinstance(source, str | os.PathLike):
        return True
    return isinstance(source, Sequence) and all(isinstance(s, str | os.PathLike) for s in source)


def expand_paths(source: PathsArg) -> list[Path]:
    """Expand a path, a glob pattern, or a list of them, into store paths (globs sorted).

    A glob that matches nothing raises :class:`~neuroheat.errors.StoreError` naming it.
    """
    items = [source] if isinstance(source, str | os.PathLike) else list(source)
    paths: list[Path] = []
    for item in items:
        text = str(item)
        if any(ch in text for ch in "*?[") and not Path(text).exists():
            matches = sorted(glob.glob(text))
            if not matches:
                raise StoreError(f"no store matches {text!r}")
            paths.extend(Path(m) for m in matches)
        else:
            paths.append(Path(text))
    if not paths:
        raise StoreError("no store path given")
    return paths
