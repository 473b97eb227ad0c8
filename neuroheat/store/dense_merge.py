"""Merge dense shard stores: their rows copied into one store, or mapped by virtual datasets.

The dense side of :meth:`~neuroheat.store.part.StorePart.merge_shards` (see
:mod:`~neuroheat.store.merge` for what a merge guarantees). The rows are copied in the stored
dtype, so the merged activations are the shards' bytes.

Example:
    >>> merge_stores("acts.h5", "acts-shard*of2.h5")   # doctest: +SKIP   (dispatches here)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neuroheat.store.stats import RunningStats
from neuroheat.store.virtual import write_virtual
from neuroheat.store.writer import StoreWriter


def merge_dense(output: Path, sharded: Any, attrs: dict[str, Any], sentences: list[list[str]],
                untokenized: list[int], stats: RunningStats, *, virtual: bool,
                overwrite: bool, chunk_mb: float) -> None:
    """Write the merge of the dense shards of ``sharded`` to ``output``."""
    if virtual:  # merged_from: the shard paths relative to the merged file
        write_virtual(output, sharded, sentences, untokenized, attrs, attrs["merged_from"],
                      stats)
        return
    layers, width, dtype = sharded.layers, sharded.width, str(sharded.meta["dtype"])
    writer = StoreWriter.create(output, sentences, layers=layers, width=width, dtype=dtype,
                                attrs=attrs, untokenized=untokenized, overwrite=overwrite)
    try:
        for pos, layer in enumerate(layers):
            for shard, base in zip(sharded.parts, sharded.row_starts, strict=False):
                # stored dtype: the bytes are copied unchanged
                for a, raw in shard.iter_stored_rows(layer, chunk_mb=chunk_mb):
                    writer.write(pos, int(base) + a, raw)
        writer.finalize(stats)
    finally:
        writer.close()
