"""Token-unit records of a store: each row's token id and each context's source span.

A store of token units (``units = "tokens"``, see :mod:`neuroheat.extract.tokens`) adds two
datasets to the layout: ``/token_ids`` (one per row) and ``/sources`` (one per sentence: the
corpus row, the start character, the row of the last token and the end character). Stores of
word units (and stores from before token units) have neither; readers report
``units = "words"`` for them.

Example:
    >>> write_records("acts.h5", np.array([1, 7]), np.array([[0, 0, 0, 5]]))   # doctest: +SKIP
    >>> source_of(np.array([[3, 10, 3, 42]]), 0)
    {'row': 3, 'start': 10, 'end': 42}
"""

from __future__ import annotations

import os
from typing import Any

import h5py
import numpy as np

from neuroheat.errors import StoreError
from neuroheat.store import layout as L

__all__ = ["read_sources", "read_token_ids", "source_of", "write_records"]


def write_records(path: str | os.PathLike, token_ids: np.ndarray, sources: np.ndarray) -> None:
    """Add ``/token_ids`` and ``/sources`` to the store ``path`` (replacing any). A complete
    store is marked incomplete while they are written.

    Example:
        >>> write_records("acts.h5", ids, sources)   # doctest: +SKIP
    """
    with h5py.File(path, "r+") as f:
        complete = bool(f.attrs.get("complete", False))
        n_rows, n_sent = int(f[L.WORDS].shape[0]), int(f[L.OFFSETS].shape[0]) - 1
        if len(token_ids) != n_rows or len(sources) != n_sent:
            raise StoreError(f"{path}: {len(token_ids)} token ids and {len(sources)} sources "
                             f"for {n_rows} rows and {n_sent} sentences")
        if complete:
            f.attrs["complete"] = False
            f.flush()
        for name in (L.TOKEN_IDS, L.SOURCES):
            if name in f:
                del f[name]
        f.create_dataset(L.TOKEN_IDS, data=np.asarray(token_ids, dtype=np.int32))
        f.create_dataset(L.SOURCES, data=np.asarray(sources, dtype=np.int64).reshape(-1, 4))
        if complete:
            f.flush()
            f.attrs["complete"] = True


def read_token_ids(f: h5py.File) -> np.ndarray | None:
    """int64 ``[n_rows]`` token ids of an open store file, or None (word units)."""
    return f[L.TOKEN_IDS][...].astype(np.int64) if L.TOKEN_IDS in f else None


def read_sources(f: h5py.File) -> np.ndarray | None:
    """int64 ``[n_sentences, 4]`` source records of an open store file, or None."""
    return f[L.SOURCES][...] if L.SOURCES in f else None


def source_of(sources: np.ndarray | None, i: int) -> dict[str, Any]:
    """``{"row", "start", "end"}`` of sentence ``i`` (``"end_row"`` too when a concatenated
    context ends in a later row); a StoreError for a store of word units.

    Example:
        >>> source_of(np.array([[0, 0, 1, 4]]), 0)
        {'row': 0, 'start': 0, 'end': 4, 'end_row': 1}
    """
    if sources is None:
        raise StoreError("this store has word units and records no sources: each sentence is "
                         "corpus row sentence_start + i; extract with --units tokens for "
                         "context sources")
    row, start, end_row, end = (int(x) for x in sources[i])
    out = {"row": row, "start": start, "end": end}
    if end_row != row:
        out["end_row"] = end_row
    return out
