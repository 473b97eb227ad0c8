"""How an analysis runs: :class:`RunOptions` (chunk size, threads, workers, scheduler, quiet).

Every analysis function takes ``options=RunOptions(...)``; the same settings given as keyword
arguments (``chunk_mb=``, ``threads=``, ``workers=``, ``scheduler=``, ``quiet=``) still work
and override ``options`` (:meth:`~neuroheat.config.Config.build`); the analysis commands' CLI
options are made from the same fields. How a run is split never changes a result: every mode
gives the same numbers, bit for bit.

Example:
    >>> opts = RunOptions(workers=4)
    >>> RunOptions.build(opts, chunk_mb=16)
    RunOptions(chunk_mb=16, threads=None, workers=4, scheduler=None, quiet=False)
    >>> nh.analysis.top_words_all("acts.h5", options=opts)      # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from neuroheat.config import Config, option
from neuroheat.errors import InputError
from neuroheat.store.base import DEFAULT_CHUNK_MB

__all__ = ["DEFAULT_BLOCK_MB", "DEFAULT_CHUNK_MB", "RunOptions", "resolve_threads",
           "resolve_workers"]

#: MiB of the float64 ``[word types x neurons]`` accumulator of a top-words pass
DEFAULT_BLOCK_MB = 256.0


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


@dataclass(frozen=True)
class RunOptions(Config):
    """Settings of a run, not of the result (the analysis commands' options come from these
    fields).

    Attributes:
        chunk_mb: MiB of activations read at once by this process (shared by its threads).
        threads: threads of this process (``None``: one per CPU, at most 4).
        workers: local worker processes (1: none; 0: one per CPU).
        scheduler: a Dask scheduler address (``tcp://host:8786``) or a ``distributed.Client``;
            store files must be visible to its workers.
        quiet: no progress bar (by default one shows on a terminal); the CLI's ``--quiet``.
            ``progress=`` is its deprecated spelling (``progress=False`` is ``quiet=True``).
    """

    chunk_mb: float = option(DEFAULT_CHUNK_MB, "MiB of activations read at once (bounds "
                             "memory; default 64)", type=float, metavar="M")
    threads: int | None = option(None, "threads of this process (default: one per CPU, at "
                                 "most 4)", type=int, metavar="T")
    workers: int | None = option(1, "local worker processes over shards/layers (0 = one per "
                                 "CPU; default 1)", type=int, metavar="W")
    scheduler: Any = option(None, "run on a Dask cluster (e.g. tcp://host:8786; needs "
                            "neuroheat[cluster] and store files visible to the workers)",
                            metavar="ADDRESS")
    quiet: bool = option(False, "no progress bar (default: one on a terminal)", cli=False)

    aliases = {"progress": ("quiet", lambda progress: progress is False)}

    def __post_init__(self) -> None:
        if isinstance(self.chunk_mb, bool) or not isinstance(self.chunk_mb, int | float) \
                or not self.chunk_mb > 0:
            raise InputError(f"chunk_mb must be a positive number of MiB, got {self.chunk_mb!r}")
        resolve_workers(self.workers)
        if self.threads is not None:
            resolve_threads(self.threads)

    @property
    def uses_pool(self) -> bool:
        """Whether tasks run in other processes (a process pool or a Dask cluster)."""
        return self.scheduler is not None or resolve_workers(self.workers) > 1

    @property
    def local_tasks(self) -> int:
        """Tasks that run at once in this process, sharing its memory budgets."""
        return 1 if self.uses_pool else resolve_threads(self.threads)
