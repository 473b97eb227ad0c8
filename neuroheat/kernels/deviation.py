"""The segment sums of top words in one pass: ``S[ids[i], j] += |a[i, j] - mu[j]|``.

:func:`~neuroheat.analysis.scores.dense_dev_sums` in numpy casts a block to float64,
subtracts the means, takes the absolute value and adds the rows into their word type's
accumulator (a CSR product): four passes over every value. :func:`add_deviations` does it in
one, row by row in corpus order, so each ``S[t, j]`` is the same sequential float64 sum
(the same bits) as the numpy code's.

Example:
    >>> import numpy as np
    >>> S = np.zeros((2, 1))
    >>> add_deviations(S, np.array([1, 0, 1]), np.array([[1.0], [2.0], [4.0]], np.float32),
    ...                0, np.array([2.0]))
    >>> S.ravel().tolist()
    [0.0, 3.0]
"""

from __future__ import annotations

import numpy as np
from numba import njit

from neuroheat.kernels.stored import kernel_view, load

__all__ = ["add_deviations"]


@njit(nogil=True, cache=True)
def _add(S, ids, x, c0, mu):
    width = S.shape[1]
    for i in range(x.shape[0]):
        # row views: numba then proves the inner loop free of aliasing and vectorises it
        # (2.3x faster than S[t, j] indexing, same additions in the same order)
        srow = S[ids[i]]
        xrow = x[i, c0:c0 + width]
        for j in range(width):
            srow[j] += abs(np.float64(load(xrow[j])) - mu[j])


def add_deviations(S: np.ndarray, ids: np.ndarray, x: np.ndarray, c0: int,
                   mu: np.ndarray) -> None:
    """``S[ids[i], j] += |float64(x[i, c0 + j]) - mu[j]|`` for every row ``i`` in order
    (``S``: float64 ``[types, width]``; ``x``: stored rows, float16 or float32)."""
    _add(S, np.asarray(ids, np.int64), kernel_view(x), int(c0), np.asarray(mu, np.float64))
