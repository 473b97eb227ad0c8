"""The activation store: writer, lazy reader, statistics. The only code that knows the layout.

Modules: :mod:`~neuroheat.store.layout` (the HDF5 layout), :mod:`~neuroheat.store.writer`,
:mod:`~neuroheat.store.part` (the protocol of one file, dense or sparse: the operations
analysis uses), :mod:`~neuroheat.store.reader` (one dense file; ``open_part``),
:mod:`~neuroheat.store.sparse_reader` (one sparse file), :mod:`~neuroheat.store.sharded`
(several shard files read as one corpus, the only multi-file reader), :mod:`~neuroheat.store.base` (what both
readers offer), :mod:`~neuroheat.store.merge` and :mod:`~neuroheat.store.virtual` (merging
shards), :mod:`~neuroheat.store.summary` (``neuroheat info``), :mod:`~neuroheat.store.interop`
(NeuroX files). Imports only go down that list's dependency order: no module imports this
package back, and the names below are loaded on first use.

Example:
    >>> import neuroheat as nh
    >>> with nh.open_store("acts.h5") as store:   # doctest: +SKIP
    ...     print(store.num_sentences, store.layers)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from neuroheat.lazy import lazy_exports

if TYPE_CHECKING:
    from neuroheat.store.base import StoreBase
    from neuroheat.store.paths import PathsArg

# name -> module; imported on first use, so `import neuroheat.store.base` stays cheap (no h5py)
_LAZY = {
    "DEFAULT_CHUNK_MB": "neuroheat.store.base",
    "StoreBase": "neuroheat.store.base",
    "Kernel": "neuroheat.store.part",
    "StorePart": "neuroheat.store.part",
    "expand_paths": "neuroheat.store.paths",
    "Store": "neuroheat.store.reader",
    "ShardedStore": "neuroheat.store.sharded",
    "RunningStats": "neuroheat.store.stats",
    "StoreWriter": "neuroheat.store.writer",
    "write_store": "neuroheat.store.writer",
}

__all__ = ["DEFAULT_CHUNK_MB", "Kernel", "RunningStats", "ShardedStore", "Store", "StoreBase",
           "StorePart", "StoreWriter", "expand_paths", "open_store", "write_store"]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


def open_store(source: PathsArg, *, allow_incomplete: bool = False) -> StoreBase:
    """Open a store read-only: a path, or several shards (list or glob) read as one corpus.

    The one factory of readers: a dense file gives a :class:`Store`, a sparse (SAE latent)
    file a :class:`~neuroheat.store.sparse_reader.SparseStore`, several files a
    :class:`ShardedStore`; all offer the same reader API and the
    :class:`~neuroheat.store.part.StorePart` operations analysis uses.

    Example:
        >>> with open_store("acts.h5") as store:          # doctest: +SKIP
        ...     vec = store.neuron(3, 17)
    """
    from neuroheat.store.paths import expand_paths
    from neuroheat.store.reader import open_part
    from neuroheat.store.sharded import ShardedStore

    paths = expand_paths(source)
    if len(paths) == 1:
        return open_part(paths[0], allow_incomplete=allow_incomplete)
    return ShardedStore(paths, allow_incomplete=allow_incomplete)
