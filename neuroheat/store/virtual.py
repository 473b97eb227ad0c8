"""HDF5 virtual datasets: a merged store whose activations map onto its shard files.

``neuroheat merge --virtual`` writes the small per-word datasets and the statistics, and one
virtual dataset per layer whose rows map onto ``activations/<L>`` of the shard files, stored
relative to the merged file (HDF5 looks them up next to it first). Opening such a store checks
that every mapped shard is still there and long enough (:func:`check_virtual_sources`); a
missing one is an error, never silent fill values.

Example:
    >>> write_virtual(out, sharded, sentences, untokenized, attrs, rel, stats)  # doctest: +SKIP
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import StoreError
from neuroheat.store import layout as L


def write_virtual(output: Path, sharded: Any, sentences: list[list[str]],
                  untokenized: list[int], attrs: dict[str, Any], rel: list[str],
                  stats: Any) -> None:
    """Write ``output``: the per-word datasets of ``sentences``, ``stats``, and one virtual
    dataset per layer mapping the rows of each part of ``sharded`` (file names ``rel``)."""
    import h5py

    from neuroheat.store.writer import StoreWriter

    tmp = output.with_name(output.name + ".merging")
    width, dtype = sharded.width, np.dtype(str(sharded.meta["dtype"])).newbyteorder("<")
    StoreWriter.create(tmp, sentences, layers=[], width=width, dtype=str(sharded.meta["dtype"]),
                       attrs=attrs, untokenized=untokenized, overwrite=True).close()
    with h5py.File(tmp, "r+") as f:
        f.attrs["layers"] = np.asarray(sharded.layers, dtype=np.int64)
        group = f[L.ACTIVATIONS]
        for layer in sharded.layers:
            layout = h5py.VirtualLayout(shape=(sharded.num_words, width), dtype=dtype)
            for k in range(len(sharded.parts)):
                a, b = int(sharded.row_starts[k]), int(sharded.row_starts[k + 1])
                if a < b:
                    layout[a:b] = h5py.VirtualSource(
                        rel[k], f"{L.ACTIVATIONS}/{L.layer_name(layer)}", shape=(b - a, width),
                        dtype=dtype)
            group.create_virtual_dataset(L.layer_name(layer), layout, fillvalue=np.nan)
        sg = f[L.STATS]
        for name, value in stats.as_dict().items():
            del sg[name]
            sg.create_dataset(name, data=np.asarray(value, dtype=np.float64))
        f.flush()
        f.attrs["complete"] = True
    os.replace(tmp, output)


def check_virtual_sources(path: Path, name: str, ds: Any) -> None:
    """Raise StoreError unless every shard a virtual layer maps exists and is long enough."""
    for src in ds.virtual_sources():
        file_name = src.file_name
        if file_name == ".":
            continue
        source = Path(file_name)
        if not source.is_absolute():
            source = path.resolve().parent / source
        if not source.exists():
            raise StoreError(f"{path} is a virtual merge whose layer {name} maps {file_name}, "
                             f"which is missing (looked for {source}); keep the shards next to "
                             "the merged file, or merge them again (without --virtual to copy)")
        rows = _source_rows(str(source), src.dset_name, source.stat().st_mtime_ns)
        (lo, _), (hi, _) = src.vspace.get_select_bounds()
        if rows is None or rows < hi - lo + 1:
            raise StoreError(f"{path}: shard {source} does not hold the {hi - lo + 1} rows of "
                             f"layer {name} the merge maps (it was replaced or damaged since); "
                             "merge again")


@lru_cache(maxsize=1024)
def _source_rows(source: str, dset_name: str, mtime_ns: int) -> int | None:
    import h5py

    try:
        with h5py.File(source, "r") as f:
            return int(f[dset_name].shape[0])
    except (OSError, KeyError):
        return None
