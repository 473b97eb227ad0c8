"""The activation store: writer, lazy reader, statistics. The only code that knows the layout.

Example:
    >>> import neuroheat as nh
    >>> with nh.open_store("acts.h5") as store:   # doctest: +SKIP
    ...     print(store.num_sentences, store.layers)
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from neuroheat.errors import StoreError
from neuroheat.store.reader import Store
from neuroheat.store.stats import RunningStats
from neuroheat.store.writer import StoreWriter, write_store

__all__ = ["Store", "StoreWriter", "RunningStats", "open_store", "write_store", "expand_paths"]


def expand_paths(source: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    """Expand a path, a glob pattern, or a list of them, into existing store paths."""
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


def open_store(
    source: str | os.PathLike | Sequence[str | os.PathLike], *, allow_incomplete: bool = False
) -> Any:
    """Open a store read-only: a path, or several shards (list or glob) read as one corpus.

    Example:
        >>> with open_store("acts.h5") as store:          # doctest: +SKIP
        ...     vec = store.neuron(3, 17)
    """
    paths = expand_paths(source)
    if len(paths) == 1:
        return Store(paths[0], allow_incomplete=allow_incomplete)
    from neuroheat.store.sharded import ShardedStore

    return ShardedStore(paths, allow_incomplete=allow_incomplete)
