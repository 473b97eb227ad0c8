"""Create, fill and finalize a sparse (CSR) store; see :mod:`~neuroheat.store.sparse_layout`.

During extraction each batch's non-zeros are appended to staging files (one pair per stored
layer) and each sentence's staging position and row counts are written to fixed places of two
memory-mapped side files, so any crash leaves a consistent prefix; a checkpoint records the
staged lengths, and resuming truncates the staging files back to them. :meth:`finalize`
lays the non-zeros out in corpus order (blocks of sentences gathered with one fancy index),
writes the statistics, marks the store complete, and removes the staging folder.

Example:
    >>> w = SparseStoreWriter.create("lat.h5", [["a", "b"]], layers=[7], width=16)  # doctest: +SKIP
    >>> w.write_unit(0, [0], np.array([0, 2]), np.array([1, 0]), idx, val)           # doctest: +SKIP
    >>> w.finalize(stats, active)                                                     # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from neuroheat.errors import OutputExistsError, StoreError
from neuroheat.store import layout as L
from neuroheat.store import sparse_layout as S
from neuroheat.store.stats import RunningStats
from neuroheat.store.writer import free_bytes, space_error, write_header

_ROW_OVERHEAD = 64  # a word's string, id and row pointer, with HDF5 slack

#: non-zeros gathered per block when finalizing or merging (~48 MiB of index + values)
BLOCK_NNZ = 4 * 2**20


def create_word_datasets(f: h5py.File, sentences: Sequence[Sequence[str]],
                         untokenized: Sequence[int]) -> None:
    """The per-word datasets every store has (offsets, words, word ids, vocabulary)."""
    lengths = np.fromiter((len(s) for s in sentences), dtype=np.int64, count=len(sentences))
    offsets = np.zeros(len(sentences) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = [w for s in sentences for w in s]
    index: dict[str, int] = {}
    ids = np.fromiter((index.setdefault(w, len(index)) for w in flat), dtype=np.int32,
                      count=len(flat))
    str_t = h5py.string_dtype("utf-8")
    f.create_dataset(L.OFFSETS, data=offsets)
    f.create_dataset(L.WORDS, data=np.array(flat, dtype=object), dtype=str_t)
    f.create_dataset(L.WORD_IDS, data=ids)
    f.create_dataset(L.VOCAB, data=np.array(list(index), dtype=object), dtype=str_t)
    f.create_dataset(L.UNTOKENIZED, data=np.asarray(list(untokenized), dtype=np.int64))


def write_sparse_header(f: h5py.File, layers: Sequence[int], width: int, dtype: str,
                        attrs: dict[str, Any] | None) -> None:
    """The attributes of a new, incomplete sparse store."""
    write_header(f, S.FORMAT_VERSION, layers, width, dtype, attrs)
    f.attrs["layout"] = S.LAYOUT


def write_stats(f: h5py.File, stats: RunningStats, active: np.ndarray) -> None:
    """``/stats`` of a sparse store (replaced if present)."""
    if L.STATS in f:
        del f[L.STATS]
    g = f.create_group(L.STATS)
    for name, value in stats.as_dict().items():
        g.create_dataset(name, data=np.asarray(value, dtype=np.float64))
    g.create_dataset(S.ACTIVE, data=np.asarray(active, dtype=np.int64))


def csr_group(f: h5py.File, layer: int, n_rows: int, nnz: int, dtype: str) -> h5py.Group:
    """A fresh ``/latents/<L>`` group with datasets for ``nnz`` non-zeros."""
    top = f.require_group(S.LATENTS)
    name = L.layer_name(layer)
    if name in top:
        del top[name]
    g = top.create_group(name)
    g.create_dataset(S.INDPTR, shape=(n_rows + 1,), dtype=np.int64)
    g.create_dataset(S.INDICES, shape=(nnz,), dtype=np.int32)
    g.create_dataset(S.VALUES, shape=(nnz,), dtype=np.dtype(dtype))
    return g


class SparseStoreWriter:
    """Writes one sparse store. Not thread-safe: one writer thread owns it."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        with h5py.File(self.path, "r") as f:
            if not S.is_sparse_meta(f.attrs):
                raise StoreError(f"{self.path} is not a sparse store")
            self.layers = [int(x) for x in f.attrs["layers"]]
            self.width = int(f.attrs["width"])
            self.dtype = np.dtype(str(f.attrs["dtype"]))
            self.attrs = dict(f.attrs)
            self.offsets = f[L.OFFSETS][...]
        self.staging = Path(str(self.path) + S.STAGING_SUFFIX)
        self.staging.mkdir(exist_ok=True)
        n_rows, n_sent = int(self.offsets[-1]), len(self.offsets) - 1
        self._row_nnz = [self._side(f"{p}.row_nnz", np.int32, n_rows) for p in
                         range(len(self.layers))]
        self._sent_start = [self._side(f"{p}.sentence_start", np.int64, n_sent) for p in
                            range(len(self.layers))]
        self._files: list[Any] = []
        self.staged: list[int] = []
        for p in range(len(self.layers)):
            pair = [open(self.staging / f"{p}.{kind}", "ab")  # noqa: SIM115 - kept open
                    for kind in (S.INDICES, S.VALUES)]
            self._files.append(pair)
            self.staged.append(os.path.getsize(self.staging / f"{p}.{S.INDICES}") // 4)

    def _side(self, name: str, dtype: Any, n: int) -> np.memmap | None:
        path = self.staging / name
        size = n * np.dtype(dtype).itemsize
        if not path.exists() or path.stat().st_size != size:
            with open(path, "wb") as fh:
                fh.truncate(size)
        return np.memmap(path, dtype=dtype, mode="r+", shape=(n,)) if n else None

    @classmethod
    def create(cls, path: str | os.PathLike, sentences: Sequence[Sequence[str]], *,
               layers: Sequence[int], width: int, dtype: str = "float16",
               attrs: dict[str, Any] | None = None, untokenized: Sequence[int] = (),
               overwrite: bool = False, max_nnz: Sequence[int] | None = None
               ) -> SparseStoreWriter:
        """Lay out a new, incomplete sparse store for ``sentences`` (lists of row strings).

        ``max_nnz``: the most non-zeros per row of each layer when known (top-k SAEs: k);
        then the space of the staged and the final non-zeros is checked now (a one-line
        :class:`~neuroheat.errors.DiskSpaceError`), else only that of the per-row files."""
        path = Path(path)
        n_rows = sum(len(s) for s in sentences)
        per_row = 12 * len(layers) + _ROW_OVERHEAD + 2 * sum(
            int(k) * (4 + np.dtype(dtype).itemsize) for k in (max_nnz or ()))
        if n_rows * per_row > free_bytes(path.parent):
            raise space_error(path, n_rows * per_row, resume=False)
        if dtype not in L.DTYPES:
            raise StoreError(f"dtype {dtype!r} is not supported; choose one of {L.DTYPES}")
        if path.exists() and not overwrite:
            raise OutputExistsError(f"{path} exists; pass --overwrite to replace it or --resume "
                                    "to continue an interrupted extraction")
        for stale in (Path(str(path) + L.PROGRESS_SUFFIX), Path(str(path) + S.STAGING_SUFFIX)):
            if stale.is_dir():
                shutil.rmtree(stale)
            elif stale.exists():
                stale.unlink()
        tmp = path.with_name(path.name + ".creating")
        with h5py.File(tmp, "w") as f:
            write_sparse_header(f, layers, width, dtype, attrs)
            create_word_datasets(f, sentences, untokenized)
        os.replace(tmp, path)
        return cls(path)

    def write_unit(self, pos: int, sentences: Sequence[int], row_starts: np.ndarray,
                   row_nnz: np.ndarray, indices: np.ndarray, values: np.ndarray) -> None:
        """Stage one batch of layer ``pos``: ``sentences`` (local rows ``row_starts[k]:
        row_starts[k+1]``), non-zeros per local row, and the non-zeros sorted by row."""
        cum = np.zeros(len(row_nnz) + 1, dtype=np.int64)
        np.cumsum(row_nnz, out=cum[1:])
        base = self.staged[pos]
        row_map, sent_map = self._row_nnz[pos], self._sent_start[pos]
        for k, s in enumerate(sentences):
            a, b = int(row_starts[k]), int(row_starts[k + 1])
            sent_map[s] = base + cum[a]
            if b > a:
                g = int(self.offsets[s])
                row_map[g:g + b - a] = row_nnz[a:b]
        fi, fv = self._files[pos]
        fi.write(np.ascontiguousarray(indices, dtype="<i4").tobytes())
        fv.write(np.ascontiguousarray(values, dtype=self.dtype.newbyteorder("<")).tobytes())
        self.staged[pos] = base + len(indices)

    @property
    def progress_path(self) -> Path:
        """The checkpoint file next to the store (removed when it is finalized)."""
        return Path(str(self.path) + L.PROGRESS_SUFFIX)

    def _flush(self) -> None:
        for pair in self._files:
            for fh in pair:
                fh.flush()
                os.fsync(fh.fileno())
        for mm in (*self._row_nnz, *self._sent_start):
            if mm is not None:
                mm.flush()

    def checkpoint(self, state: dict[str, np.ndarray]) -> None:
        """Make everything staged durable, then record ``state`` (plus the staged lengths)."""
        self._flush()
        state = dict(state, staged=np.asarray(self.staged, dtype=np.int64))
        tmp = self.progress_path.with_name(self.progress_path.name + ".tmp.npz")
        np.savez(tmp, **state)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self.progress_path)

    def load_checkpoint(self) -> dict[str, np.ndarray] | None:
        """The last checkpoint's state, with the staging files cut back to it; None (and
        empty staging) when there is none."""
        state = None
        if self.progress_path.exists():
            try:
                with np.load(self.progress_path, allow_pickle=False) as z:
                    state = {k: z[k] for k in z.files}
            except (OSError, ValueError):
                state = None
        self.truncate(state["staged"] if state is not None else [0] * len(self.layers))
        return state

    def truncate(self, lengths: Sequence[int]) -> None:
        """Cut the staged non-zeros of each layer back to ``lengths`` (0: start over)."""
        for p, n in enumerate(lengths):
            for fh, size in zip(self._files[p], (4, self.dtype.itemsize), strict=True):
                fh.flush()
                fh.truncate(int(n) * size)
            self.staged[p] = int(n)

    def finalize(self, stats: RunningStats, active: np.ndarray) -> None:
        """Lay out the staged non-zeros in corpus order, write statistics, mark complete."""
        self._flush()
        self.close()
        n_rows = int(self.offsets[-1])
        with h5py.File(self.path, "r+") as f:
            for p, layer in enumerate(self.layers):
                row_nnz = self._row_nnz[p]
                indptr = np.zeros(n_rows + 1, dtype=np.int64)
                if row_nnz is not None:
                    np.cumsum(row_nnz, out=indptr[1:])
                g = csr_group(f, layer, n_rows, int(indptr[-1]), self.dtype.str)
                g[S.INDPTR][...] = indptr
                self._gather(p, indptr, g)
            write_stats(f, stats, active)
            f.flush()
            f.attrs["complete"] = True
        self._row_nnz, self._sent_start = [], []
        shutil.rmtree(self.staging, ignore_errors=True)
        if self.progress_path.exists():
            self.progress_path.unlink()

    def _gather(self, p: int, indptr: np.ndarray, g: h5py.Group) -> None:
        staged = self.staged[p]
        if staged == 0:
            return
        idx_src = np.memmap(self.staging / f"{p}.{S.INDICES}", dtype="<i4", mode="r",
                            shape=(staged,))
        val_src = np.memmap(self.staging / f"{p}.{S.VALUES}", dtype=self.dtype.newbyteorder("<"),
                            mode="r", shape=(staged,))
        sent_final = indptr[self.offsets]            # final start of each sentence (+ end)
        lengths = np.diff(sent_final)
        src_start = np.asarray(self._sent_start[p])
        s0, n_sent = 0, len(lengths)
        while s0 < n_sent:
            s1 = int(np.searchsorted(sent_final, sent_final[s0] + BLOCK_NNZ, side="right")) - 1
            s1 = min(n_sent, max(s1, s0 + 1))
            lens = lengths[s0:s1]
            total = int(lens.sum())
            if total:
                excl = np.concatenate([[0], np.cumsum(lens)[:-1]])
                pos = np.repeat(src_start[s0:s1] - excl, lens) + np.arange(total)
                a = int(sent_final[s0])
                g[S.INDICES][a:a + total] = idx_src[pos]
                g[S.VALUES][a:a + total] = val_src[pos]
            s0 = s1
        del idx_src, val_src

    def close(self) -> None:
        """Flush and close the staging files, without finalizing."""
        for pair in self._files:
            for fh in pair:
                if not fh.closed:
                    fh.flush()
                    fh.close()
        self._files = []
        for mm in (*self._row_nnz, *self._sent_start):
            if mm is not None:
                mm.flush()
