"""What analysis functions accept, opened through the store API: :func:`open_source`.

An analysis reads a :class:`~neuroheat.store.Store` (one file) or a
:class:`~neuroheat.store.ShardedStore` (shards read as one corpus): their ``parts``,
``row_starts``, ``type_map``, ``type_counts``, ``running_stats`` and ``check_*`` methods hold
every piece of bookkeeping needed to run per shard and merge exactly. Nothing here knows the
file layout.

Example:
    >>> with open_source("acts-shard*of4.h5") as store:    # doctest: +SKIP
    ...     store.num_words, store.layers, len(store.vocab)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from neuroheat.errors import IncompleteStoreError, InputError, StoreError
from neuroheat.store import StoreBase, open_store
from neuroheat.store.paths import PathsArg, is_paths

#: an open store, a store path, a list of shard paths, or a glob
SourceArg = StoreBase | PathsArg

__all__ = ["SourceArg", "open_source"]


@contextmanager
def open_source(source: SourceArg) -> Iterator[StoreBase]:
    """The store of ``source``, checked for analysis; closed on exit if opened here.

    Raises :class:`~neuroheat.errors.IncompleteStoreError` for an unfinished store (its
    statistics are written last, so analysis cannot trust it) and
    :class:`~neuroheat.errors.StoreError` for an empty store or shards of different models.
    """
    if isinstance(source, StoreBase):
        store, owned = source, False
    elif is_paths(source):
        store, owned = open_store(source), True
    else:
        raise InputError(f"expected a store, a store path, a list of paths or a glob, "
                         f"got {type(source).__name__}")
    try:
        _check(store)
        yield store
    finally:
        if owned:
            store.close()


def _check(store: StoreBase) -> None:
    for part in store.parts:
        if not part.complete:
            raise IncompleteStoreError(
                f"{part.path} is incomplete (extraction interrupted or still running); its "
                "statistics are written last, so analysis needs a finished store: finish it "
                "with `neuroheat extract ... --resume`")
    if store.num_words == 0:
        raise StoreError("the store is empty (0 words): there is nothing to analyse; extract "
                         "a non-empty corpus first")
    if store.width == 0 or not store.layers:
        raise StoreError("the store holds no neurons (no layers or width 0)")
