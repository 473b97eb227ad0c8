"""Reading stored activations inside a compiled kernel: float32 as is, float16 from its bits.

numba has no float16 arithmetic on the CPU, so a float16 array is handed to a kernel as its
``uint16`` bits (:func:`kernel_view`) and :func:`load` widens each value exactly (the IEEE
half -> single conversion: subnormals, infinities and NaN payloads included, the same bits as
numpy's cast). A kernel is compiled once per stored dtype.

Example:
    >>> import numpy as np
    >>> kernel_view(np.zeros((2, 3), np.float16)).dtype
    dtype('uint16')
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import overload

__all__ = ["half_to_float32", "kernel_view", "load"]


def kernel_view(x: np.ndarray) -> np.ndarray:
    """``x`` as a kernel reads it: float16 as its uint16 bits (no copy), float32 as is, any
    other dtype cast to float32."""
    if x.dtype == np.float16:
        return x.view(np.uint16)
    if x.dtype == np.float32:
        return x
    return np.asarray(x, dtype=np.float32)


@njit(inline="always")
def half_to_float32(h: int) -> float:
    """The float32 value of IEEE half-precision bits ``h`` (exact)."""
    b = np.int32(h)
    sign = (b & 0x8000) << 16
    exp = (b >> 10) & 0x1F
    man = b & 0x3FF
    if exp == 0:  # zero or subnormal: man * 2**-24, exact in float32
        v = np.float32(man) * np.float32(5.960464477539063e-08)
        return -v if sign else v
    if exp == 31:  # infinity or NaN (payload kept)
        return np.int32(sign | 0x7F800000 | (man << 13)).view(np.float32)
    return np.int32(sign | ((exp + 112) << 23) | (man << 13)).view(np.float32)


def load(v):  # pragma: no cover - replaced by the overload inside compiled code
    """float32 of one stored value (a float32, or float16 bits as uint16)."""
    raise NotImplementedError("load() is only callable inside a numba kernel")


@overload(load, inline="always")
def _load(v):
    if isinstance(v, types.Integer):
        return lambda v: half_to_float32(v)
    return lambda v: np.float32(v)
