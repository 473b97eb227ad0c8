"""Row selections of probe data: runs of indices as slices, joined blocks, class balancing.

Example:
    >>> as_slice([3, 4, 5])
    slice(3, 6, None)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from neuroheat.errors import InputError


def as_slice(values: Sequence[int]) -> slice | np.ndarray:
    """A slice for a run of consecutive indices (a view, no copy), else the index array."""
    arr = np.asarray(values, dtype=np.int64)
    if len(arr) and np.array_equal(arr, np.arange(arr[0], arr[0] + len(arr))):
        return slice(int(arr[0]), int(arr[0]) + len(arr))
    return arr


def concat_parts(parts: list[tuple[np.ndarray, np.ndarray]], width: int, dtype: Any
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` blocks joined (one block returned as it is, no copy)."""
    if not parts:
        return np.zeros((0, width), dtype=np.float32), np.zeros(0, dtype=dtype)
    if len(parts) == 1:
        return parts[0]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def undersample(train: np.ndarray, ids: np.ndarray, seed: int) -> np.ndarray:
    """The training mask ``train`` with every class cut to the rarest class's count (seeded)."""
    rows = np.flatnonzero(train)
    classes, counts = np.unique(ids[rows], return_counts=True)
    if len(classes) < 2:
        raise InputError("balance=True needs at least 2 classes in the training rows")
    rng = np.random.default_rng(seed)
    keep = np.zeros_like(train)
    k = int(counts.min())
    for c in classes:
        of_c = rows[ids[rows] == c]
        keep[np.sort(rng.choice(of_c, size=k, replace=False))] = True
    return keep
