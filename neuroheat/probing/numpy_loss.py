"""The default recipe's data loss and gradient in numpy (the CPU path of
:mod:`neuroheat.probing.training`), and the column-major copy of the rows it reads fastest.

Example:
    >>> import numpy as np
    >>> transposed(np.arange(6.0).reshape(3, 2)).tolist()
    [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["column_moments", "numpy_data_grad", "transposed"]


def numpy_data_grad(data: Any, weight: np.ndarray, bias: np.ndarray,
                     by_column: list[tuple[np.ndarray, np.ndarray]] | None = None
                     ) -> tuple[float, np.ndarray, np.ndarray]:
    """Summed data loss over the training rows and its gradient in W and b (float32
    products, float64 sums): cross-entropy or squared error. The logits are kept as
    ``[outputs, rows]`` so the per-row reductions run along contiguous memory.
    ``by_column``: the training blocks as contiguous ``[columns, rows]`` copies (in-memory
    data): ``W @ Xᵀ`` then reads X along its rows, about a third faster than from
    ``[rows, columns]`` with OpenBLAS on one thread (the product ``Xᵀ G`` costs the same)."""
    w32, b32 = weight.astype(np.float32), bias.astype(np.float32)
    total = 0.0
    g_w = np.zeros(weight.shape)
    g_b = np.zeros(bias.shape)
    blocks = by_column if by_column is not None else (
        (x.T, y) for x, y in data.chunks("train"))
    for xt, y in blocks:
        out = w32 @ xt
        out += b32[:, None]
        if data.task == "classification":
            rows = np.arange(len(y))
            out -= out.max(axis=0)
            true = out[y, rows]  # the true class's logit minus the row's largest
            np.exp(out, out=out)
            norm = out.sum(axis=0)
            total += float(np.sum(np.log(norm), dtype=np.float64)
                           - np.sum(true, dtype=np.float64))
            out /= norm  # softmax; the loss's gradient in the logits is softmax - one-hot
            out[y, rows] -= 1.0
        else:
            err = out[0] - y.astype(np.float32)
            total += float(np.dot(err.astype(np.float64), err))
            out[0] = 2.0 * err
        g_w += out @ xt.T if by_column is None else (xt @ out.T).T
        g_b += out.sum(axis=1, dtype=np.float64)
    return total, g_w, g_b


def transposed(x: np.ndarray, order: np.ndarray | None = None, rows: int = 64
               ) -> np.ndarray:
    """A contiguous ``[columns, rows]`` copy of ``x`` (its rows taken in ``order`` if
    given), copied ``rows`` rows at a time: a whole-array ``np.ascontiguousarray(x.T)``
    strides through memory and is 4-5x slower.

    Example:
        >>> transposed(np.arange(6.0).reshape(3, 2), order=np.array([2, 0, 1])).tolist()
        [[4.0, 0.0, 2.0], [5.0, 1.0, 3.0]]
    """
    n = len(x) if order is None else len(order)
    out = np.empty((x.shape[1], n), dtype=x.dtype)
    for a in range(0, n, rows):
        out[:, a:a + rows] = (x[a:a + rows] if order is None else x[order[a:a + rows]]).T
    return out


def column_moments(x_cols: np.ndarray, block_bytes: int = 4 * 2**20
                   ) -> tuple[np.ndarray, np.ndarray]:
    """float64 mean and standard deviation of every column of ``x_cols`` (``[columns,
    rows]``, the column-major copy), as :meth:`ProbeData.moments` defines them (a constant
    column gets std 1); float64 temporaries of about ``block_bytes``.

    Example:
        >>> [v.tolist() for v in column_moments(np.array([[1.0, 3.0], [2.0, 2.0]]))]
        [[2.0, 2.0], [1.0, 1.0]]
    """
    cols, n = x_cols.shape
    total, square = np.zeros(cols), np.zeros(cols)
    step = max(1, block_bytes // (8 * max(1, n)))
    for a in range(0, cols, step):
        x64 = x_cols[a:a + step].astype(np.float64)
        total[a:a + step] = x64.sum(axis=1)
        square[a:a + step] = np.einsum("ij,ij->i", x64, x64)
    mean = total / max(n, 1)
    std = np.sqrt(np.maximum(square / max(n, 1) - mean * mean, 0.0))
    std[std <= 1e-12 * np.maximum(1.0, np.abs(mean))] = 1.0
    return mean, std
