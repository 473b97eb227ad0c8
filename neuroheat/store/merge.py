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
:func:`neuroheat.store.virtual.check_virtual_sources`); a missing one is an error, never
silent fill values.

The shards' layout writes the merge (:meth:`~neuroheat.store.part.StorePart.merge_shards`):
dense rows are copied by :mod:`~neuroheat.store.dense_merge`, SAE latents' CSR arrays
concatenated by :mod:`~neuroheat.store.sparse_merge` (no virtual merge).

Example:
    >>> merge_stores("acts.h5", ["acts-shard0of2.h5", "acts-shard1of2.h5"])  # doctest: +SKIP
    PosixPath('acts.h5')
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from neuroheat.errors import OutputExistsError, StoreError
from neuroheat.store.base import DEFAULT_CHUNK_MB
from neuroheat.store.lock import StoreLock
from neuroheat.store.paths import PathArg, PathsArg, expand_paths
from neuroheat.store.records import write_records
from neuroheat.store.sharded import ShardedStore

log = logging.getLogger(__name__)

_CREATED_ATTRS = ("format", "format_version", "neuroheat_version", "complete", "layers", "width",
                  "dtype")


def _merged_attrs(sharded: ShardedStore, names: list[str], virtual: bool) -> dict[str, Any]:
    attrs = {k: v for k, v in sharded.parts[0].meta.items() if k not in _CREATED_ATTRS}
    if "sentence_start" in attrs:
        total = sharded.num_sentences
        if attrs.get("units") == "tokens":  # the range counts corpus rows, not contexts
            total = int(attrs.get("num_sentences_total", sharded.meta["sentence_stop"]))
        attrs.update(sentence_start=0, sentence_stop=total, num_sentences_total=total,
                     shard_index=0, num_shards=1)
    attrs["merged_from"] = names
    attrs["virtual"] = bool(virtual)
    return attrs


def _sentences(sharded: ShardedStore) -> tuple[list[list[str]], list[int]]:
    sentences: list[list[str]] = []
    for s in sharded.parts:
        words = s.all_words()
        offs = s.offsets
        sentences.extend(words[offs[i]:offs[i + 1]] for i in range(s.num_sentences))
    return sentences, [int(r) for r in sharded.untokenized]


def merge_stores(
    output: PathArg,
    shards: PathsArg,
    *,
    virtual: bool = False,
    overwrite: bool = False,
    chunk_mb: float = DEFAULT_CHUNK_MB,
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
    output = Path(output)
    paths = expand_paths(shards)
    if any(p.resolve() == output.resolve() for p in paths if p.exists()):
        raise StoreError(f"the output {output} is one of the shards; choose another name")
    with StoreLock(output):  # one writer per store, as for extraction
        if output.exists() and not overwrite:
            raise OutputExistsError(f"{output} exists; pass --overwrite to replace it")
        _merge(output, paths, virtual=virtual, overwrite=overwrite, chunk_mb=chunk_mb)
    return output


def _merge(output: Path, paths: list[Path], *, virtual: bool, overwrite: bool,
           chunk_mb: float) -> None:
    with ShardedStore(paths) as sharded:
        if virtual:
            rel = [os.path.relpath(p.resolve(), output.resolve().parent) for p in sharded.paths]
        else:
            rel = [p.name for p in sharded.paths]
        attrs = _merged_attrs(sharded, rel, virtual)
        sentences, untokenized = _sentences(sharded)
        stats = sharded.merged_stats()
        # the layout of the shards (one for all, checked when they open) merges them
        sharded.parts[0].merge_shards(output, sharded, attrs, sentences, untokenized, stats,
                                      virtual=virtual, overwrite=overwrite, chunk_mb=chunk_mb)
        token_ids, sources = sharded.token_ids, sharded.sources()
        if token_ids is not None and sources is not None:
            write_records(output, token_ids, sources)
    log.info("merged %d %s shards into %s", len(rel), sharded.layout, output)
