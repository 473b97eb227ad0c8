"""Lazy, read-only access to one sparse (latent) store: the same API as a dense store.

:class:`SparseStore` is what ``open_store`` (and the sharded reader) returns for a file in
the sparse layout. ``sentence``, ``rows``,
``iter_rows`` and ``iter_stored_rows`` give dense arrays (zeros filled in, for code that wants
rows); ``neuron`` and :meth:`SparseStore.iter_nonzeros` read only the non-zeros, which is
what its side of the :class:`~neuroheat.store.part.StorePart` protocol uses (cost
proportional to the non-zeros, not rows x width).

Example:
    >>> with open_store("latents.h5") as store:             # doctest: +SKIP
    ...     store.sparse, store.sentence(0, layer=7).shape, store.active(7)[:3]
    (True, (12, 16384), array([ 0, 41,  3]))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import IncompleteStoreError, StoreError
from neuroheat.store import layout as L
from neuroheat.store import sparse_layout as S
from neuroheat.store.base import DEFAULT_CHUNK_MB
from neuroheat.store.file_reader import FileReader, decode_attr
from neuroheat.store.part import Kernel

#: bytes per non-zero read at once: int32 index + float32 value + int64 row
_NNZ_BYTES = 16


class SparseStore(FileReader):
    """One sparse store file (``layout = "sparse-csr"``, format v2)."""

    layout = S.LAYOUT
    sparse = True

    @cached_property
    def saes(self) -> list[dict[str, Any]]:
        """One record per stored SAE (format, hook, site, source, widths, fingerprint)."""
        value = self.meta.get("saes") or []
        return value if isinstance(value, list) else []

    def _check(self, allow_incomplete: bool) -> None:
        f = self._file
        if decode_attr(f.attrs.get("format")) != L.FORMAT_NAME or not S.is_sparse_meta(f.attrs):
            raise StoreError(f"{self.path} is not a sparse neuroheat store")
        version = int(f.attrs.get("format_version", 0))
        if version > S.FORMAT_VERSION:
            raise StoreError(f"{self.path} has store format v{version}; this neuroheat reads up "
                             f"to v{S.FORMAT_VERSION}: upgrade neuroheat")
        if not bool(f.attrs.get("complete", False)):
            msg = (f"{self.path} is incomplete (its extraction was interrupted or is running); "
                   "finish it with `neuroheat extract ... --resume`")
            if not allow_incomplete:
                raise IncompleteStoreError(msg + ", or open it with allow_incomplete=True")
            return
        size = self.path.stat().st_size
        for layer in self.layers:
            if L.layer_name(layer) not in f.get(S.LATENTS, {}):
                raise StoreError(f"{self.path} lacks the latents of layer {layer}; the file is "
                                 "damaged: re-run the extraction with --overwrite")
            for ds in f[S.LATENTS][L.layer_name(layer)].values():
                off = ds.id.get_offset()
                if ds.size and (off is None or off + ds.size * ds.dtype.itemsize > size):
                    raise StoreError(f"{self.path} is truncated (the latents of layer {layer} "
                                     "end past the end of the file); re-run the extraction "
                                     "with --overwrite")

    def __repr__(self) -> str:
        return (f"<neuroheat SparseStore {self.path.name}: {self.num_sentences} sentences, "
                f"{self.num_words} words, layers {self.layers}, {self.width} latents>")

    # -- the CSR arrays ---------------------------------------------------------------------
    def _group(self, layer: int) -> Any:
        self.layer_index(layer)
        if not self.complete:
            raise IncompleteStoreError(f"{self.path} is incomplete: its latents are laid out "
                                       "when the extraction finishes; resume it first")
        return self._file[S.LATENTS][L.layer_name(layer)]

    def indptr(self, layer: int) -> np.ndarray:
        """int64 ``[num_words + 1]`` row pointers of ``layer`` (read once, then kept)."""
        cache = self.__dict__.setdefault("_indptr", {})
        if int(layer) not in cache:
            cache[int(layer)] = self._group(layer)[S.INDPTR][...]
        return cache[int(layer)]

    def nnz(self, layer: int) -> int:
        """Number of stored non-zeros of ``layer``."""
        return int(self.indptr(layer)[-1])

    def csr(self, layer: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray,
                                                             np.ndarray]:
        """``(indptr, indices, values)`` of rows ``start:stop`` (indptr from 0; values in
        the stored dtype)."""
        ptr = self.indptr(layer)
        a, b = int(ptr[start]), int(ptr[stop])
        g = self._group(layer)
        return ptr[start:stop + 1] - a, g[S.INDICES][a:b], g[S.VALUES][a:b]

    def nonzeros(self, layer: int, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Stored non-zeros ``a:b`` of ``layer`` (corpus order): ``(indices, values)`` in the
        stored dtypes (int32, float16|float32)."""
        g = self._group(layer)
        return g[S.INDICES][a:b], g[S.VALUES][a:b]

    def iter_nonzeros(self, layer: int, chunk_mb: float = DEFAULT_CHUNK_MB
                      ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Yield ``(rows int64, latents int32, values float32)`` of the non-zeros of
        ``layer`` in corpus order, about ``chunk_mb`` MiB at a time (whole rows per chunk)."""
        ptr = self.indptr(layer)
        g = self._group(layer)
        step = max(1, int(chunk_mb * 2**20) // _NNZ_BYTES)
        r0, n = 0, self.num_words
        while r0 < n:
            r1 = int(np.searchsorted(ptr, ptr[r0] + step, side="right")) - 1
            r1 = min(n, max(r1, r0 + 1))
            a, b = int(ptr[r0]), int(ptr[r1])
            rows = np.repeat(np.arange(r0, r1, dtype=np.int64), np.diff(ptr[r0:r1 + 1]))
            yield rows, g[S.INDICES][a:b], g[S.VALUES][a:b].astype(np.float32)
            r0 = r1

    # -- dense views ------------------------------------------------------------------------
    def _dense(self, layer: int, start: int, stop: int, dtype: Any = np.float32) -> np.ndarray:
        ptr, idx, val = self.csr(layer, start, stop)
        out = np.zeros((stop - start, self.width), dtype=dtype)
        rows = np.repeat(np.arange(stop - start), np.diff(ptr))
        out[rows, idx] = val
        return out

    def rows(self, layer: int, start: int, stop: int) -> np.ndarray:
        """float32 dense rows ``start:stop`` of one layer."""
        self.layer_index(layer)
        start, stop, _ = slice(start, stop).indices(self.num_words)
        return self._dense(layer, start, max(start, stop))

    def neuron(self, layer: int, index: int) -> np.ndarray:
        """One latent over every row, float32 ``[num_words]``; reads only the non-zeros."""
        index = self.check_neuron(index)
        out = np.zeros(self.num_words, dtype=np.float32)
        for rows, lat, val in self.iter_nonzeros(layer):
            hit = lat == index
            out[rows[hit]] = val[hit]
        return out

    def _iter_dense(self, layer: int, chunk_mb: float, dtype: Any
                    ) -> Iterator[tuple[int, np.ndarray]]:
        self.layer_index(layer)
        row_bytes = max(1, self.width * np.dtype(dtype).itemsize)
        step = max(1, int(chunk_mb * 2**20) // row_bytes)
        for start in range(0, self.num_words, step):
            yield start, self._dense(layer, start, min(self.num_words, start + step), dtype)

    def iter_rows(self, layer: int, chunk_mb: float = DEFAULT_CHUNK_MB
                  ) -> Iterator[tuple[int, np.ndarray]]:
        """Dense float32 row chunks (zeros filled in); prefer :meth:`iter_nonzeros`."""
        return self._iter_dense(layer, chunk_mb, np.float32)

    def iter_stored_rows(self, layer: int, chunk_mb: float = DEFAULT_CHUNK_MB
                         ) -> Iterator[tuple[int, np.ndarray]]:
        """Dense row chunks in the stored dtype (zeros filled in)."""
        return self._iter_dense(layer, chunk_mb, np.dtype(str(self.meta["dtype"])))

    # -- statistics -------------------------------------------------------------------------
    def active(self, layer: int | None = None) -> np.ndarray:
        """int64 rows where each latent is non-zero (``[width]``, or ``[n_layers, width]``)."""
        ds = self._file[L.STATS][S.ACTIVE]
        return ds[...] if layer is None else ds[self.layer_index(layer)]

    def density(self, layer: int) -> np.ndarray:
        """Fraction of rows where each latent of ``layer`` is non-zero."""
        return self.active(layer) / max(1, self.num_words)

    # -- the StorePart protocol: latents from their non-zeros ------------------------------
    @classmethod
    def implementation(cls, kernel: Kernel) -> Callable[..., Any]:
        """``kernel.sparse``."""
        return kernel.sparse

    def columns(self, layer: int, neuron: int, chunk_mb: float = DEFAULT_CHUNK_MB
                ) -> Iterator[tuple[int, np.ndarray]]:
        """One chunk: ``(0, the latent over every row)``, filled from its non-zeros."""
        yield 0, self.neuron(layer, neuron)

    def count_above(self, layer: int, threshold: float, chunk_mb: float = DEFAULT_CHUNK_MB
                    ) -> np.ndarray:
        """int64 ``[width]``: rows where each latent is > ``threshold``, counted among the
        non-zeros (plus the inactive rows when ``threshold < 0``)."""
        total = np.zeros(int(self.width), dtype=np.int64)
        t32 = np.float32(threshold)
        if float(t32) > threshold:
            t32 = np.nextafter(t32, np.float32(-np.inf))
        for _, lat, val in self.iter_nonzeros(layer, chunk_mb=chunk_mb):
            total += np.bincount(lat[val > t32], minlength=len(total))
        if threshold < 0:  # the inactive rows are 0 > threshold
            total += self.num_words - np.asarray(self.active(layer), dtype=np.int64)
        return total

    def layout_summary(self) -> dict[str, Any]:
        """``nonzeros`` and ``dead_latents`` per layer (once the store is complete)."""
        if not self.complete:
            return {}
        return {"nonzeros": {lay: self.nnz(lay) for lay in self.layers},
                "dead_latents": {lay: int((self.active(lay) == 0).sum()) for lay in self.layers}}

    @classmethod
    def merge_shards(cls, output: Path, sharded: Any, attrs: dict[str, Any],
                     sentences: list[list[str]], untokenized: list[int], stats: Any, *,
                     virtual: bool, overwrite: bool, chunk_mb: float) -> None:
        """Concatenate the shards' CSR arrays (a virtual merge is refused)."""
        from neuroheat.store.sparse_merge import merge_sparse

        merge_sparse(output, sharded, attrs, sentences, untokenized, stats, virtual=virtual,
                     overwrite=overwrite)
