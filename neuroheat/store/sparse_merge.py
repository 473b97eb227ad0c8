"""Merge sparse (latent) shard stores: a concatenation of their CSR arrays.

Row pointers are shifted by the non-zeros before each shard, indices and values are copied
unchanged, statistics merge with Chan's formula and the active counts add up, so the merged
store equals one run's, byte for byte in the latents. A virtual merge of sparse stores is
refused: the copy is only the non-zeros.

Example:
    >>> merge_stores("lat.h5", "lat-shard*of2.h5")   # doctest: +SKIP   (dispatches here)
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from neuroheat.errors import InputError
from neuroheat.store import sparse_layout as S
from neuroheat.store.sparse_writer import (
    BLOCK_NNZ,
    SparseStoreWriter,
    csr_group,
    write_stats,
)
from neuroheat.store.stats import RunningStats


def merged_active(sharded: Any) -> np.ndarray:
    """int64 ``[n_layers, width]``: active rows of every latent over all shards."""
    return sum(np.asarray(p.active(), dtype=np.int64) for p in sharded.parts)


def merge_sparse(output: Path, sharded: Any, attrs: dict[str, Any], sentences: list[list[str]],
                 untokenized: list[int], stats: RunningStats, *, virtual: bool = False,
                 overwrite: bool = False) -> Path:
    """Write the merge of the sparse shards of ``sharded`` to ``output`` (the sharded
    reader has checked that every shard is sparse)."""
    if virtual:
        raise InputError("a virtual merge of sparse (latent) stores is not supported; merge "
                         "without --virtual (it copies only the non-zeros)")
    layers, width, dtype = sharded.layers, sharded.width, str(sharded.meta["dtype"])
    writer = SparseStoreWriter.create(output, sentences, layers=layers, width=width,
                                      dtype=dtype, attrs=attrs, untokenized=untokenized,
                                      overwrite=overwrite)
    writer.close()
    staging = writer.staging
    n_rows = sharded.num_words
    with h5py.File(output, "r+") as f:
        for layer in layers:
            total = sum(p.nnz(layer) for p in sharded.parts)
            g = csr_group(f, layer, n_rows, total, dtype)
            row, nz = 0, 0
            for part in sharded.parts:
                ptr = part.indptr(layer)
                g[S.INDPTR][row:row + len(ptr) - 1] = ptr[:-1] + nz
                for a in range(0, int(ptr[-1]), BLOCK_NNZ):
                    b = min(int(ptr[-1]), a + BLOCK_NNZ)
                    idx, val = part.nonzeros(layer, a, b)
                    g[S.INDICES][nz + a:nz + b] = idx
                    g[S.VALUES][nz + a:nz + b] = val
                row += len(ptr) - 1
                nz += int(ptr[-1])
            g[S.INDPTR][n_rows] = nz
        write_stats(f, stats, merged_active(sharded))
        f.flush()
        f.attrs["complete"] = True
    shutil.rmtree(staging, ignore_errors=True)
    return Path(os.fspath(output))

