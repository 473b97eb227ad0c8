"""Compiled one-pass kernels of the hot paths (numba), beside the numpy code they replace.

numpy runs one pass over the data per operation (cast, subtract, absolute value, compare,
bin, ...); a hot path of a dozen operations then costs a dozen passes over every value,
where the machine's bound is one read. The kernels here do each path's work in one pass, in
the order the numpy code defines, so their results are the same bit for bit (tested against
the numpy code on random data with ties, -0.0, NaN and infinities).

:func:`jit` compiles a function with ``numba.njit(nogil=True, cache=True)`` on its first call
(not at import: ``import neuroheat`` loads no numba), so analysis threads run kernels in
parallel and a compiled kernel is reused across processes from numba's on-disk cache.

:func:`enabled` says whether a kernel runs. Importing numba and loading the compiled kernels
costs a fresh process about 0.5-1 s, more than a kernel saves on a small store, so by default
kernels run on work of at least :data:`MIN_VALUES` values, or once numba is imported anyway.
The environment variable ``NEUROHEAT_KERNELS`` overrides: ``numpy`` never (the numpy code
runs; it is also what the kernels are tested against), ``numba`` always.

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

import importlib.util
import os
import sys
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any

__all__ = ["ENV", "MIN_VALUES", "enabled", "jit", "prepare"]

#: environment variable: ``numpy`` turns the compiled kernels off, ``numba`` always on
ENV = "NEUROHEAT_KERNELS"
#: work (values read) from which a kernel pays for importing numba in a fresh process
MIN_VALUES = 2**26
_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _installed() -> bool:
    return importlib.util.find_spec("numba") is not None


@lru_cache(maxsize=1)
def _numba() -> Any:
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency; a platform may lack it
        return None
    return numba


def enabled(values: int | None = None, min_values: int = MIN_VALUES, *,
            anyway: bool = True) -> bool:
    """True when a compiled kernel runs for work of ``values`` values (None: unknown, large):
    numba is installed, ``NEUROHEAT_KERNELS`` is not ``numpy``, and the work is at least
    ``min_values`` values or (``anyway``) numba is imported already
    (``NEUROHEAT_KERNELS=numba``: always). ``anyway=False`` makes the answer depend on the
    size alone, not on what the process imported before (for results that differ in the
    last bits between the two paths, like extraction statistics).

    Example:
        >>> import os
        >>> os.environ["NEUROHEAT_KERNELS"] = "numpy"; enabled()
        False
        >>> del os.environ["NEUROHEAT_KERNELS"]
    """
    mode = os.environ.get(ENV, "").strip().lower()
    if mode == "numpy" or not _installed():
        return False
    if mode == "numba" or values is None or values >= min_values:
        return True
    return anyway and "numba" in sys.modules


def prepare(values: int, min_values: int = MIN_VALUES, *, anyway: bool = True) -> bool:
    """Before a job of ``values`` values split into smaller tasks: import numba now if the
    whole job makes the kernels pay, so that every task runs them (each asks
    :func:`enabled` with its own, smaller size). Returns ``enabled(values, min_values,
    anyway=anyway)``.

    Example:
        >>> prepare(0) == enabled(0)
        True
    """
    on = enabled(values, min_values, anyway=anyway)
    if on:
        _numba()
    return on


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
