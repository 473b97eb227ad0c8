"""Values of given (row, neuron) pairs from a chunk of stored rows, in one compiled loop.

:func:`~neuroheat.analysis.windows.gather_values` reads a layer chunk by chunk and needs, per
chunk, the pairs whose row lies in it. In numpy that is a sort of every pair by row and a
fancy index per chunk; :func:`gather_into` instead walks all pairs once per chunk (a
comparison each, a few chunks per layer) and copies the values of those inside, widened to
float64 exactly.

Example:
    >>> import numpy as np
    >>> out = np.full(3, np.nan)
    >>> chunk = np.arange(6, dtype=np.float32).reshape(3, 2)
    >>> gather_into(out, chunk, 10, np.array([11, 12, 30]), np.array([1, 0, 0]))
    >>> out.tolist()
    [3.0, 4.0, nan]
"""

from __future__ import annotations

import numpy as np
from numba import njit

from neuroheat.kernels.stored import kernel_view, load

__all__ = ["gather_into"]


@njit(nogil=True, cache=True)
def _gather(out, x, g0, rows, neurons):
    n = x.shape[0]
    for i in range(len(rows)):
        r = rows[i] - g0
        if 0 <= r < n:
            out[i] = np.float64(load(x[r, neurons[i]]))


def gather_into(out: np.ndarray, chunk: np.ndarray, g0: int, rows: np.ndarray,
                neurons: np.ndarray) -> None:
    """``out[i] = chunk[rows[i] - g0, neurons[i]]`` (float64) for every pair whose row lies
    in the chunk (global rows ``g0 .. g0 + len(chunk) - 1``); the others are left alone."""
    _gather(out, kernel_view(chunk), int(g0), rows, neurons)
