"""The one parallel map of analysis: per-part (shard) tasks in threads, processes or on Dask.

:func:`map_parts` is what every analysis function uses: it calls ``fn(part, *args)`` for each
``(part index, *args)``, on the part objects of an open store in this process (one after
another, or in threads: numpy and the memory-mapped reads release the GIL), or on store files
opened by :func:`run_on_file` in a process pool or on Dask workers, as
:class:`~neuroheat.analysis.options.RunOptions` says. :func:`ordered_map` is the engine.

Results always come back in submission order, so callers merge partial results in the same
order whatever runs them: a pool or a cluster gives the same numbers, bit for bit, as one
process. A bounded number of tasks is in flight at once, which bounds the memory held by
results waiting to be merged.

Dask is optional (``pip install 'neuroheat[cluster]'``); tasks name store files by absolute
path, so the workers must see the same file system (a cluster's shared storage).

Example:
    >>> list(ordered_map(pow, [(2, 3), (3, 2)], workers=2))   # doctest: +SKIP
    [8, 9]
    >>> sums = map_parts(column_sums, store, [(i, 3) for i in range(len(store.parts))],
    ...                  RunOptions(workers=2))                  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from neuroheat.analysis.options import RunOptions, resolve_threads, resolve_workers
from neuroheat.errors import InputError
from neuroheat.store import StoreBase, open_store

__all__ = ["map_parts", "ordered_map", "resolve_threads", "resolve_workers", "run_on_file"]

log = logging.getLogger(__name__)


def run_on_file(fn: Callable[..., Any], path: str, *args: Any) -> Any:
    """``fn(open_store(path), *args)``: the task a process pool or a Dask worker runs (the
    file opens as its layout's reader, dense or sparse)."""
    with open_store(path) as part:
        return fn(part, *args)


def map_parts(fn: Callable[..., Any], store: StoreBase, calls: Sequence[tuple],
              options: RunOptions, *, threads: int | None = None) -> Iterator[Any]:
    """Yield ``fn(store.parts[i], *args)`` for each ``(i, *args)`` of ``calls``, in order.

    Runs where ``options`` says: a Dask cluster (``scheduler``), a process pool
    (``workers > 1``; each task opens its part's file by absolute path), or this process
    in ``threads`` threads (default: ``options.local_tasks``). ``fn`` must be a
    module-level function when it runs in other processes.
    """
    if options.uses_pool:
        paths = [str(p.resolve()) for p in store.paths]
        jobs = [(fn, paths[i], *args) for i, *args in calls]
        return ordered_map(run_on_file, jobs, workers=options.workers,
                           scheduler=options.scheduler)
    parts = store.parts
    jobs = [(parts[i], *args) for i, *args in calls]
    return ordered_map(fn, jobs, threads=options.local_tasks if threads is None else threads)


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
