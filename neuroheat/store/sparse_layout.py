"""The sparse layout of a store (format v2): SAE latents as CSR rows. Only ``neuroheat.store`` uses it.

Latent widths of 16k-1M make dense rows impossible (a 131,072-wide float16 row is 256 KB
per token) while a top-k SAE has k non-zeros per token. A sparse store keeps every v1 dataset
except ``/activations`` and adds, per stored layer (one SAE each)::

    /latents/<L>/indptr    [n_rows + 1] int64     non-zeros of row r: indptr[r]:indptr[r+1]
    /latents/<L>/indices   [nnz] int32            latent index, ascending within a row
    /latents/<L>/values    [nnz] float16|float32  its value (never 0)
    /stats/{count,mean,M2,min,max}  [n_layers, width] float64, over EVERY row (zeros included)
    /stats/active          [n_layers, width] int64   rows where the latent is non-zero
    attributes: format_version = 2, layout = "sparse-csr", component = "sae", saes (JSON: one
                record per SAE: format, hook, source, d_in, d_sae, activation, k, fingerprint)

Why CSR in corpus order: 4 + 2 bytes per non-zero (int32 + float16) plus 8 per row, so a
k = 32 of 16,384 store is 1/160 of the dense float16 layout (``scripts/bench_sae.py``); a row
or sentence is one contiguous slice; the row of every non-zero is ``np.repeat`` of the row
pointers, so analysis streams the non-zeros with cost proportional to them; and the bytes
depend on nothing but the values (not on batches, shards or interruptions), so merged shards
and a resumed run equal one run bit for bit, and merging is a concatenation.

Writing: the non-zeros of each batch are appended to staging files next to the store
(``<store>.staging/``: crash-safe appends, truncated back to the last checkpoint on resume)
with the staging position of each sentence; :class:`~neuroheat.store.sparse_writer.SparseStoreWriter`
lays them out in corpus order when it finalizes (one sequential pass over the non-zeros).
Readers of format v1 refuse v2 files ("upgrade neuroheat") instead of misreading them.

Example:
    >>> f"{LATENTS}/{6}/{INDPTR}"
    'latents/6/indptr'
"""

from __future__ import annotations

FORMAT_VERSION = 2
LAYOUT = "sparse-csr"
LATENTS = "latents"
INDPTR = "indptr"
INDICES = "indices"
VALUES = "values"
ACTIVE = "active"
STAGING_SUFFIX = ".staging"


def is_sparse_meta(attrs: object) -> bool:
    """Whether HDF5 attributes (or a store's ``meta``) describe a sparse store."""
    value = attrs.get("layout") if hasattr(attrs, "get") else None  # type: ignore[union-attr]
    if isinstance(value, bytes):
        value = value.decode()
    return value == LAYOUT
