"""Gathering a probe's rows from stored blocks in one pass: convert, pick and (optionally)
transpose.

The probe reads a layer's rows in the stored dtype (float16 by default), keeps its split's
rows and columns, and holds them as float32 — row-major for the scores, column-major
(``[columns, rows]``) for the training passes. numpy needs a pass per step (a float16 →
float32 cast of the whole block, which numpy does without SIMD, at about 2 ns a value; a
``take``; a copy per split; a transposition); :func:`gather_rows` does it in one pass.
float16 values are converted by a 65,536-entry table that holds numpy's own conversion of
every bit pattern, so the results are numpy's bit for bit (NaN payloads, -0.0 and
subnormals included). With ``NEUROHEAT_KERNELS=numpy`` (or without numba) it runs the
numpy code. :func:`gather_columns` (the column-major copy) is numpy only: ``take`` of
1,024 rows, then one cast-and-transpose into place; compiled versions (per element, and
tiled through a row buffer) measured no faster — the copy is bound by memory traffic.

Importing numba and loading the cached kernels costs 0.5-1 s in a fresh process (measured
on 2 busy cores), and a kernel saves about 1 ns per value over numpy: a probe's in-memory
rows (at most ``cache_mb``, 256 MiB, by default) never pay that back. So :func:`compiled`
uses the kernels when numba is already imported (another kernel, or an earlier read, paid
for it) or a read converts at least :data:`MIN_VALUES` values; otherwise the numpy code
runs (same bits).

Example:
    >>> import numpy as np
    >>> block = np.arange(6, dtype=np.float16).reshape(3, 2)
    >>> out = np.zeros((2, 2), np.float32)
    >>> gather_rows(block, np.array([2, 0]), out, 0)
    >>> out.tolist()
    [[4.0, 5.0], [0.0, 1.0]]
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from neuroheat import kernels

__all__ = ["MIN_VALUES", "compiled", "gather_columns", "gather_rows", "half_table"]

# rows per piece of the numpy column-major copy: 1,024 measured faster than 64 or 256
# (27 vs 42 / 30 ms for 34k float16 rows x 384), a whole .T strides badly
_NUMPY_ROWS = 1024
#: values one read must convert before importing numba for it pays (about 1 ns saved per
#: value against 0.5-1 s of import): 2**29, a GiB of float16
MIN_VALUES = 2**29


def compiled(values: int) -> bool:
    """Whether a read of ``values`` values runs the compiled kernels: they are
    :func:`~neuroheat.kernels.enabled` and numba is imported already, or the read is at
    least :data:`MIN_VALUES` values.

    Example:
        >>> compiled(0) == kernels.enabled(0, min_values=MIN_VALUES)
        True
    """
    return kernels.enabled(values, min_values=MIN_VALUES)


@lru_cache(maxsize=1)
def half_table() -> np.ndarray:
    """float32 ``[65536]``: numpy's conversion of every float16 bit pattern.

    Example:
        >>> float(half_table()[np.float16(1.5).view(np.uint16)])
        1.5
    """
    table = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16)
    return table.astype(np.float32)


@kernels.jit
def _rows_half(block, keep, src, table, out, row0, dst):  # pragma: no cover - compiled
    for i in range(keep.shape[0]):
        r = keep[i]
        for c in range(src.shape[0]):
            out[row0 + i, dst[c]] = table[block[r, src[c]]]


@kernels.jit
def _rows_float(block, keep, src, out, row0, dst):  # pragma: no cover - compiled
    for i in range(keep.shape[0]):
        r = keep[i]
        for c in range(src.shape[0]):
            out[row0 + i, dst[c]] = np.float32(block[r, src[c]])


def _index(cols: np.ndarray | slice | None, width: int) -> np.ndarray:
    if cols is None:
        return np.arange(width, dtype=np.int64)
    if isinstance(cols, slice):
        return np.arange(*cols.indices(width), dtype=np.int64)
    return np.asarray(cols, dtype=np.int64)


def _numpy_index(index: np.ndarray, width: int) -> np.ndarray | slice:
    """``index`` as a slice when it is every column in order (numpy copies faster)."""
    full = len(index) == width and np.array_equal(index, np.arange(width))
    return slice(None) if full else index


def _check(block: np.ndarray, keep: np.ndarray, out: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    if block.ndim != 2 or out.ndim != 2 or out.dtype != np.float32:
        raise ValueError("gather: block must be 2-D and out a 2-D float32 array")
    keep = np.asarray(keep, dtype=np.int64)
    block = np.asarray(block)  # a memory map's slices are memmaps: slower to make
    if len(keep) and (keep.min() < 0 or keep.max() >= len(block)):
        raise ValueError(f"gather: row indices must lie in 0..{len(block) - 1}")
    return block, keep


def _compiled_source(block: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The block as the kernels read it: float16 as its bits (and the table), float32 /
    float64 as they are, anything else cast to float32 first."""
    if block.dtype == np.float16:
        return block.view(np.uint16), half_table()
    if block.dtype in (np.float32, np.float64):
        return block, None
    return block.astype(np.float32), None


def gather_rows(block: np.ndarray, keep: np.ndarray, out: np.ndarray, row0: int, *,
                src: np.ndarray | slice | None = None, dst: np.ndarray | slice | None = None,
                use_kernel: bool | None = None) -> None:
    """``out[row0 + i, dst] = float32(block[keep[i], src])`` for every ``i`` (``src`` /
    ``dst``: column indices, every column by default; ``use_kernel``: compiled or numpy,
    default :func:`compiled` of this call's values).

    Example:
        >>> out = np.zeros((1, 3), np.float32)
        >>> gather_rows(np.ones((2, 2)), np.array([1]), out, 0, dst=np.array([2, 0]))
        >>> out.tolist()
        [[1.0, 0.0, 1.0]]
    """
    block, keep = _check(block, keep, out)
    s, d = _index(src, block.shape[1]), _index(dst, out.shape[1])
    if not (compiled(len(keep) * len(s)) if use_kernel is None
            else use_kernel and kernels.enabled()):
        rows = np.take(block, keep, axis=0)[:, _numpy_index(s, block.shape[1])]
        out[row0:row0 + len(keep), _numpy_index(d, out.shape[1])] = rows
        return
    data, table = _compiled_source(block)
    if table is None:
        _rows_float(data, keep, s, out, int(row0), d)
    else:
        _rows_half(data, keep, s, table, out, int(row0), d)


def gather_columns(block: np.ndarray, keep: np.ndarray, out: np.ndarray, col0: int, *,
                   src: np.ndarray | slice | None = None, dst: np.ndarray | slice | None = None
                   ) -> None:
    """The column-major copy: ``out[dst, col0 + i] = float32(block[keep[i], src])`` (``out``
    is ``[columns, rows]``), 1,024 rows at a time (numpy; see the module docstring).

    Example:
        >>> out = np.zeros((2, 2), np.float32)
        >>> gather_columns(np.arange(4.0).reshape(2, 2), np.array([1, 0]), out, 0)
        >>> out.tolist()
        [[2.0, 0.0], [3.0, 1.0]]
    """
    block, keep = _check(block, keep, out)
    s = _numpy_index(_index(src, block.shape[1]), block.shape[1])
    d = _numpy_index(_index(dst, out.shape[0]), out.shape[0])
    for a in range(0, len(keep), _NUMPY_ROWS):
        part = np.take(block, keep[a:a + _NUMPY_ROWS], axis=0)[:, s]
        out[d, col0 + a:col0 + a + len(part)] = part.T
