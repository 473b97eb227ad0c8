"""Run per-shard analysis tasks in this process, a local process pool, or on a Dask cluster.

Results always come back in submission order, so callers merge partial results in the same
order whatever runs them: a pool or a cluster gives the same numbers, bit for bit, as one
process. A bounded number of tasks is in flight at once, which bounds the memory held by
results waiting to be merged.

Dask is optional (``pip install 'neuroheat[cluster]'``); tasks name store files by absolute
path, so the workers must see the same file system (a cluster's shared storage).

Example:
    >>> list(ordered_map(pow, [(2, 3), (3, 2)], workers=2))   # doctest: +SKIP
    [8, 9]
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from neuroheat.errors import InputError

log = logging.getLogger(__name__)


def resolve_workers(workers: int | None) -> int:
    """``None``/1 -> 1 (this process), 0 -> every CPU, n -> n processes."""
    if workers is None:
        return 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise InputError(f"workers must be an integer >= 0 (0 = one per CPU), got {workers!r}")
    return workers if workers > 0 else (os.cpu_count() or 1)


def resolve_threads(threads: int | None) -> int:
    """``None`` -> up to 4 threads (one per CPU), n -> n threads."""
    if threads is None:
        return max(1, min(4, os.cpu_count() or 1))
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise InputError(f"threads must be a positive integer (or None for one per CPU, at "
                         f"most 4), got {threads!r}")
    return threads


def use_pool(src: Any, workers: int | None, scheduler: object) -> bool:
    """Whether tasks go to other processes; they need every part to be a file on disk."""
    if scheduler is None and resolve_workers(workers) <= 1:
        return False
    if src.paths is None:
        log.warning("this store object has no file path; analysing it in this process")
        return False
    return True


def _client(scheduler: object) -> tuple[Any, bool]:
    try:
        from distributed import Client
    except ImportError:
        raise InputError("a Dask scheduler needs dask.distributed: "
                         "pip install 'neuroheat[cluster]'") from None
    if isinstance(scheduler, Client):
        return scheduler, False
    if not isinstance(scheduler, str) or not scheduler:
        raise InputError(f"scheduler must be an address like tcp://host:8786 or a "
                         f"distributed.Client, got {scheduler!r}")
    try:
        return Client(scheduler, timeout="30s"), True
    except OSError as exc:
        raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}; check the "
                         "address and that `dask scheduler` is running") from None


def ordered_map(
    fn: Callable[..., Any],
    calls: Sequence[tuple],
    *,
    workers: int | None = 1,
    scheduler: object = None,
    window: int | None = None,
    threads: int | None = 1,
) -> Iterator[Any]:
    """Yield ``fn(*call)`` for each call, in order, computed where asked: a Dask cluster
    (``scheduler``), a process pool (``workers > 1``), threads of this process
    (``threads > 1``; numpy releases the GIL), or one call after another.

    ``fn`` must be importable (a module-level function) when it runs in other processes.
    """
    if scheduler is not None:
        yield from _dask_map(fn, calls, scheduler, window)
        return
    n = resolve_workers(workers)
    if n <= 1 or len(calls) <= 1:
        threads = resolve_threads(threads)
        if threads <= 1 or len(calls) <= 1:
            for call in calls:
                yield fn(*call)
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(threads, len(calls))) as pool:
            yield from _windowed(pool.submit, calls, fn, window or threads,
                                 lambda fut: fut.result(), lambda fut: fut.cancel())
        return
    from concurrent.futures import ProcessPoolExecutor

    # spawn: h5py/HDF5 state must not be inherited through fork
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(n, len(calls)), mp_context=ctx) as pool:
        yield from _windowed(pool.submit, calls, fn, window or 2 * n,
                             lambda fut: fut.result(), lambda fut: fut.cancel())


def _dask_map(fn: Callable[..., Any], calls: Sequence[tuple], scheduler: object,
              window: int | None) -> Iterator[Any]:
    client, owned = _client(scheduler)
    try:
        threads = sum(client.nthreads().values()) or 1
        yield from _windowed(lambda f, *a: client.submit(f, *a, pure=False), calls, fn,
                             window or 2 * threads, lambda fut: fut.result(),
                             lambda fut: fut.cancel())
    finally:
        if owned:
            client.close()


def _windowed(submit: Callable[..., Any], calls: Sequence[tuple], fn: Callable[..., Any],
              window: int, result: Callable[[Any], Any],
              cancel: Callable[[Any], Any]) -> Iterator[Any]:
    pending: deque = deque()
    it = iter(calls)
    try:
        for call in it:
            pending.append(submit(fn, *call))
            if len(pending) >= window:
                break
        while pending:
            value = result(pending.popleft())
            for call in it:
                pending.append(submit(fn, *call))
                break
            yield value
    finally:
        for fut in pending:
            cancel(fut)
