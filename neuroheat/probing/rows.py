"""Row selections of probe data: runs of indices as slices, joined blocks, class balancing,
and reading selected rows from the store in one pass (row- or column-major).

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


def read_rows(store: Any, groups: list[tuple[int, Any, Any]], rows: dict[str, np.ndarray],
              out: dict[str, tuple[np.ndarray, int]], chunk_mb: float, *,
              columns: bool = False) -> bool:
    """Copy the store rows ``rows[key]`` (sorted) into ``out[key] = (array, first)`` from
    ``first`` on, in one pass over the stored blocks of each layer (``groups``: ``(layer,
    destination columns, source columns)``): each block's kept rows are converted to
    float32 and written straight into place, row-major (``array`` is ``[rows, columns]``)
    or column-major (``columns=True``: ``[columns, rows]``), with the values of
    ``store.rows(...)[keep]`` (:mod:`neuroheat.kernels.probe_rows`). False (nothing read)
    when the store has no stored-dtype blocks: the caller reads it the general way.

    Example:
        >>> x = np.empty((10, 384), np.float32)                           # doctest: +SKIP
        >>> read_rows(store, [(3, slice(0, 384), slice(0, 384))],        # doctest: +SKIP
        ...           {"a": np.arange(10)}, {"a": (x, 0)}, 16.0)
        True
    """
    if not hasattr(store, "iter_stored_rows"):
        return False
    from neuroheat.kernels.probe_rows import compiled, gather_columns, gather_rows

    fast = not columns and compiled(sum(len(r) for r in rows.values()) * _width(groups, store))
    for layer, dst, src in groups:
        for start, block in store.iter_stored_rows(layer, chunk_mb=chunk_mb):
            stop = start + len(block)
            for key, r in rows.items():
                a, b = np.searchsorted(r, [start, stop])
                if b > a:
                    array, first = out[key]
                    if columns:
                        gather_columns(block, r[a:b] - start, array, first + int(a),
                                       src=src, dst=dst)
                    else:
                        gather_rows(block, r[a:b] - start, array, first + int(a), src=src,
                                    dst=dst, use_kernel=fast)
    return True


def _width(groups: list[tuple[int, Any, Any]], store: Any) -> int:
    """Columns read from the store: every group's source columns."""
    width = int(store.width)
    return sum(len(range(width)[src]) if isinstance(src, slice) else len(src)
               for _, _, src in groups)


def columns_of(data: Any, parts: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """float32 ``[columns, rows]`` and the targets of the store rows ``parts`` (each a
    sorted array of ``data``'s training rows), one part after the other: read from the
    store straight into that layout in one pass (:func:`read_rows`), or gathered from the
    cached training rows when those are in memory or standardised.

    Example:
        >>> xt, y = columns_of(data, [np.array([0, 5]), np.array([2])])  # doctest: +SKIP
    """
    from neuroheat.kernels.probe_rows import gather_columns

    rows = np.concatenate(parts) if len(parts) else np.zeros(0, np.int64)
    xt = np.empty((data.num_columns, len(rows)), dtype=np.float32)
    firsts = np.cumsum([0] + [len(p) for p in parts])
    want = {str(i): np.asarray(p) for i, p in enumerate(parts)}
    out = {str(i): (xt, int(firsts[i])) for i in range(len(parts))}
    if ("train" in data._cache or data.mean is not None
            or not read_rows(data.store, data._groups, want, out, data.chunk_mb,
                             columns=True)):
        x, _ = data.arrays("train")
        gather_columns(x, np.searchsorted(np.flatnonzero(data.masks["train"]), rows), xt, 0)
    return xt, data.targets[rows]


class Picked:
    """Rows ``index`` of an in-memory split ``(x, y)``, copied on first use (:meth:`rows`):
    a development split's views hold these instead of copies that may never be read.

    Example:
        >>> p = Picked(np.arange(6.0).reshape(3, 2), np.arange(3), np.array([2, 0]))
        >>> p.head(1).rows()[0].tolist()
        [[4.0, 5.0]]
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, index: np.ndarray,
                 parent: Picked | None = None):
        self.x, self.y, self.index, self.parent = x, y, index, parent
        self._rows: tuple[np.ndarray, np.ndarray] | None = None

    def rows(self) -> tuple[np.ndarray, np.ndarray]:
        """``(x[index], y[index])``, copied once (a slice of the parent's rows when those
        are copied already)."""
        if self._rows is None:
            k = len(self.index)
            if self.parent is not None and self.parent._rows is not None:
                px, py = self.parent._rows
                self._rows = (px[:k], py[:k])
            else:
                self._rows = (np.take(self.x, self.index, axis=0), self.y[self.index])
        return self._rows

    def head(self, k: int) -> Picked:
        """The first ``k`` of these rows (not copied yet)."""
        return Picked(self.x, self.y, self.index[:k], parent=self)


def cached_rows(entry: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of a cache entry: a pair, or a :class:`Picked`."""
    return entry.rows() if isinstance(entry, Picked) else entry
