"""Add a layer's selected token vectors into a row buffer in one compiled pass.

Extraction picks, per micro-batch and layer, the vectors at ``(batch, position)`` pairs and adds
them into the unit's float32 row buffer at their word rows. In torch that is an indexing gather
(a temporary copy) and an ``index_add_`` that reads it back; :func:`add_rows` reads each picked
vector once from the layer's tensor and adds it into its row: the same float32 additions in
the same order (index by index, as ``index_add_`` on the CPU), so the same bits, ``+0.0 + -0.0
== +0.0`` included.

Example:
    >>> import numpy as np
    >>> v = np.arange(12, dtype=np.float32).reshape(2, 3, 2)      # [batch, tokens, width]
    >>> buf = np.zeros((2, 1, 2), np.float32)                      # [rows, layers, width]
    >>> add_rows(v, np.array([1, 0]), np.array([2, 0]), np.array([0, 1]), buf, 0)
    >>> buf[:, 0].tolist()
    [[10.0, 11.0], [0.0, 1.0]]
"""

from __future__ import annotations

import numpy as np

from neuroheat import kernels

__all__ = ["add_rows"]


@kernels.jit
def _add_rows(v, b, t, rows, buf, slot):  # pragma: no cover - compiled
    w = v.shape[2]
    for i in range(len(rows)):
        src = v[b[i], t[i]]
        dst = buf[rows[i], slot]
        for j in range(w):
            dst[j] += src[j]


def add_rows(values: np.ndarray, b: np.ndarray, t: np.ndarray, rows: np.ndarray,
             buf: np.ndarray, slot: int) -> None:
    """``buf[rows[i], slot] += values[b[i], t[i]]`` for every ``i`` in order (float32
    ``values`` ``[batch, tokens, width]`` and ``buf`` ``[rows, layers, width]``, C-contiguous;
    int64 indices, in range). Needs :func:`neuroheat.kernels.enabled`.

    Example:
        >>> buf = np.zeros((1, 2, 1), np.float32)
        >>> add_rows(np.ones((1, 1, 1), np.float32), np.zeros(2, np.int64),
        ...          np.zeros(2, np.int64), np.zeros(2, np.int64), buf, 1)
        >>> buf.ravel().tolist()
        [0.0, 2.0]
    """
    if values.dtype != np.float32 or buf.dtype != np.float32:
        raise ValueError("add_rows adds float32 values into a float32 buffer")
    if not (values.flags.c_contiguous and buf.flags.c_contiguous):
        raise ValueError("add_rows needs C-contiguous arrays")
    if not len(b) == len(t) == len(rows):
        raise ValueError("add_rows needs as many batch indices, positions and rows")
    if values.shape[2] != buf.shape[2]:
        raise ValueError(f"add_rows: width {values.shape[2]} != the buffer's {buf.shape[2]}")
    if len(rows) and (
            min(b.min(), t.min(), rows.min()) < 0 or b.max() >= values.shape[0]
            or t.max() >= values.shape[1] or rows.max() >= buf.shape[0]
            or not 0 <= slot < buf.shape[1]):
        raise ValueError("add_rows: an index is out of range")
    _add_rows(values, b.astype(np.int64, copy=False), t.astype(np.int64, copy=False),
              rows.astype(np.int64, copy=False), buf, int(slot))
