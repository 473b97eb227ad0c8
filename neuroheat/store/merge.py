"""Merge shard stores into one store: a full copy, or an HDF5 virtual-dataset view.

``merge_stores(output, shards)`` writes one store equal to a single-process run: the same
activation bytes, words, offsets, vocabulary and word ids (rebuilt in first-seen order), the
untokenized rows renumbered, and statistics merged with Chan's formula (equal to a single
run's within float64 rounding, ~1e-12 relative).

``virtual=True`` copies only the small per-word datasets and statistics; each
``activations/<L>`` becomes an HDF5 virtual dataset whose rows map onto the shard files, so
the merge takes seconds whatever the corpus size. The shard paths are stored relative to the
merged file (HDF5 looks them up next to it first), so move the folder as a whole. Opening a
virtual store checks that every shard it maps is still there (see
:func:`check_virtual_sources`); a missing one is an error, never silent fill values.

Example:
    >>> merge_stores("acts.h5", ["acts-shard0of2.h5", "acts-shard1of2.h5"])  # doctest: +SKIP
    PosixPath('acts.h5')
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import OutputExistsError, StoreError
from neuroheat.store import layout as L

log = logging.getLogger(__name__)

_CREATED_ATTRS = ("format", "format_version", "neuroheat_version", "complete", "layers", "width",
                  "dtype")


def _merged_attrs(sharded: Any, names: list[str], virtual: bool) -> dict[str, Any]:
    attrs = {k: v for k, v in sharded.shards[0].meta.items() if k not in _CREATED_ATTRS}
    if "sentence_start" in attrs:
        total = sharded.num_sentences
        attrs.update(sentence_start=0, sentence_stop=total, num_sentences_total=total,
                     shard_index=0, num_shards=1)
    attrs["merged_from"] = names
    attrs["virtual"] = bool(virtual)
    return attrs


def _sentences(sharded: Any) -> tuple[list[list[str]], list[int]]:
    sentences: list[list[str]] = []
    for s in sharded.shards:
        words = s.all_words()
        offs = s.offsets
        sentences.extend(words[offs[i]:offs[i + 1]] for i in range(s.num_sentences))
    return sentences, [int(r) for r in sharded.untokenized]


def merge_stores(
    output: str | os.PathLike,
    shards: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    virtual: bool = False,
    overwrite: bool = False,
    chunk_mb: float = 64,
) -> Path:
    """Merge complete shard stores (paths, or a glob) into the store ``output``.

    Args:
        output: the merged store to write.
        shards: shard paths or a glob, in any order (they are ordered by sentence range).
        virtual: map the shards' activations with HDF5 virtual datasets instead of copying.
        overwrite: replace an existing ``output``.
        chunk_mb: copy buffer size.

    Example:
        >>> merge_stores("all.h5", "acts-shard*of8.h5", virtual=True)  # doctest: +SKIP
    """
    from neuroheat.store import expand_paths
    from neuroheat.store.sharded import ShardedStore
    from neuroheat.store.writer import StoreWriter

    output = Path(output)
    paths = expand_paths(shards)
    if any(p.resolve() == output.resolve() for p in paths if p.exists()):
        raise StoreError(f"the output {output} is one of the shards; choose another name")
    if output.exists() and not overwrite:
        raise OutputExistsError(f"{output} exists; pass --overwrite to replace it")
    with ShardedStore(paths) as sharded:
        if virtual:
            rel = [os.path.relpath(p.resolve(), output.resolve().parent) for p in sharded.paths]
        else:
            rel = [p.name for p in sharded.paths]
        attrs = _merged_attrs(sharded, rel, virtual)
        sentences, untokenized = _sentences(sharded)
        stats = sharded.merged_stats()
        layers, width, dtype = sharded.layers, sharded.hidden_size, str(sharded.meta["dtype"])
        if virtual:
            _write_virtual(output, sharded, sentences, untokenized, attrs, rel, stats)
            log.info("wrote virtual store %s over %d shards", output, len(rel))
            return output
        writer = StoreWriter.create(output, sentences, layers=layers, width=width, dtype=dtype,
                                    attrs=attrs, untokenized=untokenized, overwrite=overwrite)
        try:
            step = max(1, int(chunk_mb * 2**20) // max(1, width * np.dtype(dtype).itemsize))
            for pos, layer in enumerate(layers):
                for shard, base in zip(sharded.shards, sharded._row_starts, strict=False):
                    ds = shard._dataset(layer)
                    for a in range(0, shard.num_words, step):
                        raw = ds[a:a + step]  # stored dtype: the bytes are copied unchanged
                        writer.write(pos, int(base) + a, raw)
            writer.finalize(stats)
        finally:
            writer.close()
    log.info("merged %d shards into %s", len(rel), output)
    return output


def _write_virtual(output: Path, sharded: Any, sentences: list[list[str]],
                   untokenized: list[int], attrs: dict[str, Any], rel: list[str],
                   stats: Any) -> None:
    import h5py

    from neuroheat.store.writer import StoreWriter

    tmp = output.with_name(output.name + ".merging")
    width, dtype = sharded.hidden_size, np.dtype(str(sharded.meta["dtype"])).newbyteorder("<")
    StoreWriter.create(tmp, sentences, layers=[], width=width, dtype=str(sharded.meta["dtype"]),
                       attrs=attrs, untokenized=untokenized, overwrite=True).close()
    with h5py.File(tmp, "r+") as f:
        f.attrs["layers"] = np.asarray(sharded.layers, dtype=np.int64)
        group = f[L.ACTIVATIONS]
        for layer in sharded.layers:
            layout = h5py.VirtualLayout(shape=(sharded.num_words, width), dtype=dtype)
            for k in range(len(sharded.shards)):
                a, b = int(sharded._row_starts[k]), int(sharded._row_starts[k + 1])
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
