"""Compiled one-pass kernels of the hot paths (numba), beside the numpy code they replace.

numpy runs one pass over the data per operation (cast, subtract, absolute value, compare,
bin, ...); a hot path of a dozen operations then costs a dozen passes over every value,
where the machine's bound is one read. The kernels here do each path's work in one pass, in
the order the numpy code defines, so their results are the same bit for bit (tested against
the numpy code on random data with ties, -0.0, NaN and infinities).

:func:`jit` compiles a function with ``numba.njit(nogil=True, cache=True)`` on its first call
(not at import: ``import neuroheat`` loads no numba), so analysis threads run kernels in
parallel and a compiled kernel is reused across processes from numba's on-disk cache.
:func:`enabled` says whether kernels are used: numba is importable and the environment
variable ``NEUROHEAT_KERNELS`` is not ``numpy`` (set it to run, or compare with, the numpy
code).

Example:
    >>> from neuroheat import kernels
    >>> @kernels.jit
    ... def total(x):
    ...     s = 0.0
    ...     for v in x:
    ...         s += v
    ...     return s
    >>> import numpy as np
    >>> float(total(np.arange(4.0))) if kernels.enabled() else 6.0
    6.0
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any

__all__ = ["ENV", "enabled", "jit"]

#: environment variable: ``numpy`` turns the compiled kernels off
ENV = "NEUROHEAT_KERNELS"
_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _numba() -> Any:
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency; a platform may lack it
        return None
    return numba


def enabled() -> bool:
    """True when the compiled kernels run: numba imports and ``NEUROHEAT_KERNELS`` is not
    ``numpy``.

    Example:
        >>> import os
        >>> os.environ["NEUROHEAT_KERNELS"] = "numpy"; enabled()
        False
        >>> del os.environ["NEUROHEAT_KERNELS"]
    """
    if os.environ.get(ENV, "").strip().lower() == "numpy":
        return False
    return _numba() is not None


class _Lazy:
    """A function compiled by numba on its first call (thread-safe)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.compiled: Callable[..., Any] | None = None
        self.__doc__, self.__name__ = fn.__doc__, fn.__name__

    def __call__(self, *args: Any) -> Any:
        if self.compiled is None:
            with _LOCK:
                if self.compiled is None:
                    # numba caches only functions defined in a file
                    cache = os.path.isfile(self.fn.__code__.co_filename)
                    self.compiled = _numba().njit(nogil=True, cache=cache)(self.fn)
        return self.compiled(*args)


def jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` compiled with ``numba.njit(nogil=True, cache=True)`` on its first call (cached
    on disk when ``fn`` comes from a file). Call it
    only where :func:`enabled` is True (the caller keeps the numpy code for the other case).

    Example:
        >>> double = jit(lambda x: 2 * x)
        >>> double(3) if enabled() else 6
        6
    """
    return _Lazy(fn)
