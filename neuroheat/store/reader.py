"""Lazy, read-only access to one store file.

Example:
    >>> with open_store("acts.h5") as store:                # doctest: +SKIP
    ...     store.words(0), store.sentence(0, layer=3).shape
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from neuroheat.errors import IncompleteStoreError, InputError, StoreError
from neuroheat.store import layout as L
from neuroheat.store.base import DEFAULT_CHUNK_MB
from neuroheat.store.file_reader import FileReader, decode_attr
from neuroheat.store.part import Kernel
from neuroheat.store.virtual import check_virtual_sources

log = logging.getLogger(__name__)


class Store(FileReader):
    """One dense store file (rows of activations). Open stores with
    :func:`neuroheat.open_store` (one file of either layout, shards, globs).

    ``Store(path)`` of a file in the sparse layout (SAE latents) is deprecated: it warns and
    returns the :class:`~neuroheat.store.sparse_reader.SparseStore` that ``open_store``
    returns."""

    layout = "dense"
    sparse = False

    def __new__(cls, path: str | os.PathLike, **kwargs: Any) -> Any:
        if cls is Store and _is_sparse_file(Path(path)):
            warnings.warn(f"Store({str(path)!r}) of a sparse (SAE latent) store is deprecated; "
                          "open it with neuroheat.open_store(path)", DeprecationWarning,
                          stacklevel=2)
            return open_part(path, **kwargs)  # not a Store: __init__ is not run again
        return super().__new__(cls)

    def _unreadable(self, exc: OSError) -> str:
        return (f"{self.path} is not a readable HDF5 file (damaged, truncated or another "
                f"format): {exc}; re-run the extraction with --resume or --overwrite")

    def _check(self, allow_incomplete: bool) -> None:
        f = self._file
        if decode_attr(f.attrs.get("format")) != L.FORMAT_NAME:
            raise StoreError(f"{self.path} is an HDF5 file but not a neuroheat store; "
                             "import NeuroX files with `neuroheat convert`")
        version = int(f.attrs.get("format_version", 0))
        if version > L.FORMAT_VERSION:
            raise StoreError(f"{self.path} has store format v{version}; this neuroheat reads up "
                             f"to v{L.FORMAT_VERSION}: upgrade neuroheat")
        size = self.path.stat().st_size
        for name in f[L.ACTIVATIONS]:
            ds = f[L.ACTIVATIONS][name]
            if ds.is_virtual:  # a `neuroheat merge --virtual` view: its shards must be there
                check_virtual_sources(self.path, name, ds)
                continue
            off = ds.id.get_offset()
            if ds.size and (off is None or off + ds.size * ds.dtype.itemsize > size):
                raise StoreError(f"{self.path} is truncated (layer {name} ends past the end of "
                                 "the file); re-run the extraction with --overwrite")
        if not bool(f.attrs.get("complete", False)):
            msg = (f"{self.path} is incomplete (its extraction was interrupted or is running); "
                   "finish it with `neuroheat extract ... --resume`")
            if not allow_incomplete:
                raise IncompleteStoreError(msg + ", or open it with allow_incomplete=True")
            log.warning(msg)

    def __repr__(self) -> str:
        return (f"<neuroheat Store {self.path.name}: {self.num_sentences} sentences, "
                f"{self.num_words} words, layers {self.layers}, width {self.width}>")

    # -- data -------------------------------------------------------------------------------
    def _dataset(self, layer: int) -> h5py.Dataset:
        self.layer_index(layer)
        return self._file[L.ACTIVATIONS][L.layer_name(layer)]

    def rows(self, layer: int, start: int, stop: int) -> np.ndarray:
        """float32 rows ``start:stop`` of one layer."""
        return self._dataset(layer)[start:stop].astype(np.float32, copy=False)

    def neuron(self, layer: int, index: int) -> np.ndarray:
        """One neuron over every row of the corpus, float32 ``[num_words]``."""
        index = self.check_neuron(index)
        out = np.empty(self.num_words, dtype=np.float32)
        for start, chunk in self.iter_rows(layer):
            out[start:start + len(chunk)] = chunk[:, index]
        return out

    def iter_rows(self, layer: int, chunk_mb: float = DEFAULT_CHUNK_MB
                  ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(start_row, float32 rows)`` of one layer, about ``chunk_mb`` MiB at a time."""
        ds = self._dataset(layer)
        step = max(1, int(chunk_mb * 2**20) // max(1, self.width * 4))
        for start in range(0, self.num_words, step):
            yield start, ds[start:start + step].astype(np.float32, copy=False)

    def iter_stored_rows(self, layer: int, chunk_mb: float = DEFAULT_CHUNK_MB
                         ) -> Iterator[tuple[int, np.ndarray]]:
        """Like :meth:`iter_rows` but in the STORED dtype (float16 stays float16), zero-copy.

        Contiguous layers are memory-mapped one chunk at a time (each map is released before
        the next opens, so resident memory stays about one chunk); virtual layers are read.
        Chunks are read-only; convert blocks yourself (e.g. into float64 accumulators).
        """
        ds = self._dataset(layer)
        n_rows, width = ds.shape
        row_bytes = max(1, width * ds.dtype.itemsize)
        step = max(1, int(chunk_mb * 2**20) // row_bytes)
        offset = ds.id.get_offset() if ds.size and not ds.is_virtual else None
        for start in range(0, n_rows, step):
            stop = min(n_rows, start + step)
            if offset is None or ds.chunks is not None:
                yield start, ds[start:stop]
                continue
            chunk = np.memmap(self.path, dtype=ds.dtype, mode="r",
                              offset=offset + start * row_bytes, shape=(stop - start, width))
            yield start, chunk
            del chunk

    # -- the StorePart protocol: dense rows ------------------------------------------------
    @classmethod
    def implementation(cls, kernel: Kernel) -> Callable[..., Any]:
        """``kernel.dense``."""
        return kernel.dense

    def columns(self, layer: int, neuron: int, chunk_mb: float = DEFAULT_CHUNK_MB
                ) -> Iterator[tuple[int, np.ndarray]]:
        """``(start_row, float32 values)`` of one neuron, in row chunks of ``chunk_mb``."""
        for start, chunk in self.iter_rows(layer, chunk_mb=chunk_mb):
            yield start, chunk[:, neuron]
            del chunk

    def count_above(self, layer: int, threshold: float, chunk_mb: float = DEFAULT_CHUNK_MB
                    ) -> np.ndarray:
        """int64 ``[width]``: rows where each neuron of ``layer`` is > ``threshold``."""
        total = np.zeros(int(self.width), dtype=np.int64)
        # float32 rows: v > threshold  <=>  v > t32, the largest float32 <= threshold
        t32 = np.float32(threshold)
        if float(t32) > threshold:
            t32 = np.nextafter(t32, np.float32(-np.inf))
        for _, chunk in self.iter_rows(layer, chunk_mb=chunk_mb):
            total += np.count_nonzero(chunk > t32, axis=0)
            del chunk
        return total

    def active(self, layer: int | None = None) -> np.ndarray:
        """Not recorded by a dense store: an InputError saying what to use instead."""
        raise InputError(f"counting active latents needs a sparse (SAE latent) store; "
                         f"{self.path.name} is dense: use neuron_stats(..., threshold=0.0)")

    def layout_summary(self) -> dict[str, Any]:
        """Nothing beyond the common summary."""
        return {}

    @classmethod
    def merge_shards(cls, output: Path, sharded: Any, attrs: dict[str, Any],
                     sentences: list[list[str]], untokenized: list[int], stats: Any, *,
                     virtual: bool, overwrite: bool, chunk_mb: float) -> None:
        """Copy the shards' rows into one store, or map them (``virtual``)."""
        from neuroheat.store.dense_merge import merge_dense

        merge_dense(output, sharded, attrs, sentences, untokenized, stats, virtual=virtual,
                    overwrite=overwrite, chunk_mb=chunk_mb)


def open_part(path: str | os.PathLike, *, allow_incomplete: bool = False) -> FileReader:
    """The reader of one store file, chosen by its layout: a :class:`Store` (dense rows) or a
    :class:`~neuroheat.store.sparse_reader.SparseStore` (SAE latents). What
    :func:`~neuroheat.store.open_store` opens each file with.

    Example:
        >>> with open_part("latents.h5") as part:              # doctest: +SKIP
        ...     part.layout
        'sparse-csr'
    """
    if _is_sparse_file(Path(path)):
        from neuroheat.store.sparse_reader import SparseStore

        return SparseStore(path, allow_incomplete=allow_incomplete)
    part = object.__new__(Store)  # the layout is known: skip Store.__new__'s second probe
    part.__init__(path, allow_incomplete=allow_incomplete)
    return part


def _is_sparse_file(path: Path) -> bool:
    """Whether ``path`` is a store in the sparse (latent) layout; False for anything else,
    which :class:`Store` then reports properly."""
    from neuroheat.store.sparse_layout import is_sparse_meta

    try:
        with h5py.File(path, "r") as f:
            return is_sparse_meta(f.attrs)
    except Exception:  # noqa: BLE001 - damaged or foreign files: Store's checks explain them
        return False
