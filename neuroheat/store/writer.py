"""Create, fill and finalize a store. Activations are written as raw rows at fixed offsets.

Example:
    >>> w = StoreWriter.create("s.h5", [["a", "b"]], layers=[0, 1], width=4)  # doctest: +SKIP
    >>> w.write(0, 0, np.zeros((2, 4), np.float16)); w.finalize(stats)        # doctest: +SKIP
"""

from __future__ import annotations

import errno
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from neuroheat import __version__
from neuroheat.errors import DiskSpaceError, OutputExistsError, StoreError
from neuroheat.store import layout as L
from neuroheat.store.stats import RunningStats

log = logging.getLogger(__name__)


def _vocab(words: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    index: dict[str, int] = {}
    ids = np.fromiter((index.setdefault(w, len(index)) for w in words), dtype=np.int32,
                      count=len(words))
    return ids, list(index)


def _create_contiguous(group: h5py.Group, name: str, shape: tuple[int, int], dtype: str) -> None:
    """A contiguous dataset whose bytes are allocated now (fixed offset, no fill writes)."""
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.CONTIGUOUS)
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    dcpl.set_fill_time(h5py.h5d.FILL_TIME_NEVER)
    space = h5py.h5s.create_simple(shape, shape)
    tid = h5py.h5t.py_create(np.dtype(dtype).newbyteorder("<"), logical=True)
    h5py.h5d.create(group.id, name.encode(), tid, space, dcpl=dcpl).close()


# Per-row bytes besides the activations, for the up-front space check: a vlen string's heap
# entry and global-heap object header (~32 bytes), the word id, plus HDF5 metadata slack.
_ROW_OVERHEAD = 48
_FILE_OVERHEAD = 1 << 20


def write_header(f: h5py.File, version: int, layers: Sequence[int], width: int, dtype: str,
                 attrs: dict[str, Any] | None) -> None:
    """The attributes of a new, incomplete store of format ``version`` (``attrs``: the
    extraction's settings; dicts and lists are stored as JSON)."""
    f.attrs["format"] = L.FORMAT_NAME
    f.attrs["format_version"] = version
    f.attrs["neuroheat_version"] = __version__
    f.attrs["complete"] = False
    f.attrs["layers"] = np.asarray(list(layers), dtype=np.int64)
    f.attrs["width"] = int(width)
    f.attrs["dtype"] = dtype
    for key, value in (attrs or {}).items():
        f.attrs[key] = json.dumps(value) if isinstance(value, dict | list) else value


def free_bytes(directory: str | os.PathLike) -> int:
    """Bytes an unprivileged process may still write on the file system of ``directory``.

    Example:
        >>> free_bytes(".") >= 0
        True
    """
    st = os.statvfs(directory)
    return int(st.f_bavail) * int(st.f_frsize)


def is_out_of_space(exc: BaseException) -> bool:
    """Whether ``exc`` is an out-of-space (or over-quota) error, from the OS or from HDF5.

    Example:
        >>> is_out_of_space(OSError(errno.ENOSPC, "No space left on device"))
        True
    """
    if getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc)
    return "No space left" in text or "errno = 28" in text or "Disk quota exceeded" in text


def space_error(path: Path, needed: int, *, resume: bool) -> DiskSpaceError:
    """The one-line error for ``needed`` bytes that do not fit next to ``path``.

    Example:
        >>> "needs 10 more bytes" in str(space_error(Path("x.h5"), 10, resume=True))
        True
    """
    free = free_bytes(path.parent)
    again = "run again with --resume" if resume else "run again"
    return DiskSpaceError(
        f"not enough space for {path}: it needs {needed:,} more bytes but {free:,} are free on "
        f"{path.parent}; free some space (or write elsewhere) and {again}")


def reserve(path: Path, *, resume: bool) -> None:
    """Allocate every byte of ``path`` now, so writes through a memory map never meet a hole
    (a write into unallocated space of a full disk is a SIGBUS, not an error).

    Example:
        >>> reserve(Path("acts.h5.creating"), resume=False)   # doctest: +SKIP
    """
    size = path.stat().st_size
    fd = os.open(path, os.O_RDWR)
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:
        if is_out_of_space(exc):
            st = os.fstat(fd)
            raise space_error(path, max(0, size - st.st_blocks * 512), resume=resume) from None
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise
        _fill_zeros(fd, size)  # no fallocate on this file system: write the holes for real
    except AttributeError:  # pragma: no cover - no posix_fallocate (macOS)
        _fill_zeros(fd, size)
    finally:
        os.close(fd)


def _fill_zeros(fd: int, size: int) -> None:
    """Allocate by writing: only the parts that are holes (SEEK_DATA/SEEK_HOLE) get zeros."""
    zeros = bytes(1 << 20)
    pos = 0
    while pos < size:
        try:
            hole = os.lseek(fd, pos, os.SEEK_HOLE)
        except (OSError, AttributeError):  # pragma: no cover
            hole = pos
        if hole >= size:
            return
        try:
            data = os.lseek(fd, hole, os.SEEK_DATA)
        except OSError:
            data = size
        while hole < min(data, size):
            n = os.pwrite(fd, zeros[:min(len(zeros), min(data, size) - hole)], hole)
            hole += n
        pos = max(data, hole)


class StoreWriter:
    """Writes one store file. Not thread-safe: one writer thread owns it."""

    def __init__(self, path: Path, *, reserve_space: bool = True):
        self.path = Path(path)
        if reserve_space:  # a store from before reservation, or resumed: no holes either
            reserve(self.path, resume=True)
        st = os.stat(self.path)
        self._identity = (st.st_dev, st.st_ino)
        with h5py.File(self.path, "r") as f:
            self.layers = [int(x) for x in f.attrs["layers"]]
            self.width = int(f.attrs["width"])
            self.dtype = np.dtype(str(f.attrs["dtype"]))
            self.num_rows = int(f[L.WORDS].shape[0])
            self.attrs = dict(f.attrs)
            offsets = []
            for layer in self.layers:
                ds = f[L.ACTIVATIONS][L.layer_name(layer)]
                offsets.append(ds.id.get_offset())
        self._maps: list[np.memmap | None] = []
        for off in offsets:
            if self.num_rows == 0 or self.width == 0:
                self._maps.append(None)
            else:
                self._maps.append(np.memmap(self.path, dtype=self.dtype.newbyteorder("<"),
                                            mode="r+", offset=off,
                                            shape=(self.num_rows, self.width)))

    @classmethod
    def create(
        cls,
        path: str | os.PathLike,
        sentences: Sequence[Sequence[str]],
        *,
        layers: Sequence[int],
        width: int,
        dtype: str = "float16",
        attrs: dict[str, Any] | None = None,
        untokenized: Sequence[int] = (),
        overwrite: bool = False,
    ) -> StoreWriter:
        """Lay out a new, incomplete store for ``sentences`` (lists of row strings)."""
        path = Path(path)
        if dtype not in L.DTYPES:
            raise StoreError(f"dtype {dtype!r} is not supported; choose one of {L.DTYPES}")
        if path.exists() and not overwrite:
            raise OutputExistsError(f"{path} exists; pass --overwrite to replace it or --resume "
                                    "to continue an interrupted extraction")
        lengths = np.fromiter((len(s) for s in sentences), dtype=np.int64, count=len(sentences))
        offsets = np.zeros(len(sentences) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        flat = [w for s in sentences for w in s]
        ids, vocab = _vocab(flat)
        tmp = path.with_name(path.name + ".creating")
        needed = (len(flat) * (int(width) * np.dtype(dtype).itemsize * len(layers)
                               + _ROW_OVERHEAD)
                  + sum(map(len, flat)) * 4  # a vlen string's bytes, heap and vocab copy
                  + 8 * len(offsets) + _FILE_OVERHEAD)
        if needed > free_bytes(path.parent):
            raise space_error(path, needed, resume=False)
        try:
            cls._write_layout(tmp, offsets, flat, ids, vocab, layers, width, dtype, attrs,
                              untokenized)
            reserve(tmp, resume=False)
        except BaseException as exc:
            tmp.unlink(missing_ok=True)
            if isinstance(exc, OSError | RuntimeError) and is_out_of_space(exc):
                raise space_error(path, needed, resume=False) from None
            raise
        os.replace(tmp, path)
        # only now: an old incomplete store stays resumable until it is really replaced
        Path(str(path) + L.PROGRESS_SUFFIX).unlink(missing_ok=True)
        return cls(path, reserve_space=False)

    @staticmethod
    def _write_layout(tmp: Path, offsets: np.ndarray, flat: list[str], ids: np.ndarray,
                      vocab: list[str], layers: Sequence[int], width: int, dtype: str,
                      attrs: dict[str, Any] | None, untokenized: Sequence[int]) -> None:
        str_t = h5py.string_dtype("utf-8")
        with h5py.File(tmp, "w") as f:
            write_header(f, L.FORMAT_VERSION, layers, width, dtype, attrs)
            f.create_dataset(L.OFFSETS, data=offsets)
            f.create_dataset(L.WORDS, data=np.array(flat, dtype=object), dtype=str_t)
            f.create_dataset(L.WORD_IDS, data=ids)
            f.create_dataset(L.VOCAB, data=np.array(vocab, dtype=object), dtype=str_t)
            f.create_dataset(L.UNTOKENIZED, data=np.asarray(list(untokenized), dtype=np.int64))
            grp = f.create_group(L.ACTIVATIONS)
            for layer in layers:
                _create_contiguous(grp, L.layer_name(layer), (len(flat), int(width)), dtype)
            sg = f.create_group(L.STATS)
            for name in L.STAT_NAMES:  # written now: finalizing allocates nothing
                sg.create_dataset(name, data=np.zeros((len(layers), int(width)), np.float64))

    def write(self, layer_pos: int, start: int, rows: np.ndarray) -> None:
        """Write rows ``start:start+len(rows)`` of the layer at position ``layer_pos``."""
        if len(rows) == 0:
            return
        mm = self._maps[layer_pos]
        if mm is None:
            raise StoreError(f"cannot write rows to {self.path}: the store has no rows or is "
                             "already finalized")
        mm[start:start + len(rows)] = rows

    def write_at(self, layer_pos: int, dest: np.ndarray, rows: np.ndarray) -> None:
        """Write ``rows[i]`` to row ``dest[i]`` of the layer at position ``layer_pos`` (one
        slice when ``dest`` is a run of consecutive rows)."""
        if len(rows) != len(dest):
            raise StoreError(f"cannot write {len(rows)} rows to {len(dest)} row numbers")
        if not len(dest):
            return
        if dest[-1] - dest[0] == len(dest) - 1 and (np.diff(dest) == 1).all():
            self.write(layer_pos, int(dest[0]), rows)
            return
        mm = self._maps[layer_pos]
        if mm is None:
            raise StoreError(f"cannot write rows to {self.path}: the store has no rows or is "
                             "already finalized")
        mm[dest] = rows

    def write_rows(self, start: int, rows: np.ndarray) -> None:
        """Write ``rows`` shaped ``[n, num_layers, width]`` starting at row ``start``."""
        for pos in range(len(self.layers)):
            self.write(pos, start, rows[:, pos])

    @property
    def progress_path(self) -> Path:
        """The checkpoint file next to the store (removed when it is finalized)."""
        return Path(str(self.path) + L.PROGRESS_SUFFIX)

    def checkpoint(self, state: dict[str, np.ndarray]) -> None:
        """Make every row written so far durable, then record ``state`` atomically."""
        for mm in self._maps:
            if mm is not None:
                mm.flush()
        tmp = self.progress_path.with_name(self.progress_path.name + ".tmp.npz")
        try:
            np.savez(tmp, **state)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        except OSError as exc:
            tmp.unlink(missing_ok=True)  # the last complete checkpoint stays
            if is_out_of_space(exc):
                needed = sum(np.asarray(v).nbytes for v in state.values()) + 4096
                raise space_error(self.path, needed, resume=True) from None
            raise
        os.replace(tmp, self.progress_path)

    def load_checkpoint(self) -> dict[str, np.ndarray] | None:
        """The state of the last checkpoint, or None when there is none."""
        if not self.progress_path.exists():
            return None
        try:
            with np.load(self.progress_path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable progress file %s (%s)", self.progress_path, exc)
            return None

    def finalize(self, stats: RunningStats, extra_attrs: dict[str, Any] | None = None) -> None:
        """Flush rows, write statistics, then (last) mark the store complete."""
        for mm in self._maps:
            if mm is not None:
                mm.flush()
        self._maps = []
        self.check_identity()
        try:
            with h5py.File(self.path, "r+") as f:
                for name, value in stats.as_dict().items():
                    f[L.STATS][name][...] = value
                for key, value in (extra_attrs or {}).items():
                    f.attrs[key] = value
                f.flush()
                f.attrs["complete"] = True
        except (OSError, RuntimeError) as exc:
            if is_out_of_space(exc):
                raise space_error(self.path, _FILE_OVERHEAD, resume=True) from None
            raise
        if self.progress_path.exists():
            self.progress_path.unlink()

    def check_identity(self) -> None:
        """Raise StoreError when the file at :attr:`path` is no longer the one this writer
        opened (another process replaced or removed it): never mark someone else's file."""
        try:
            st = os.stat(self.path)
            same = (st.st_dev, st.st_ino) == self._identity
        except FileNotFoundError:
            same = False
        if not same:
            raise StoreError(f"{self.path} was replaced or removed by another process while "
                             "this run wrote it; nothing was marked complete: run again")

    def close(self) -> None:
        """Flush written rows and release the maps, without finalizing."""
        for mm in self._maps:
            if mm is not None:
                mm.flush()
        self._maps = []


def write_store(
    path: str | os.PathLike,
    sentences: Sequence[Sequence[str]],
    activations: Sequence[np.ndarray],
    *,
    layers: Sequence[int] | None = None,
    dtype: str = "float32",
    meta: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a complete store from in-memory arrays ``[n_words, n_layers, width]`` per sentence.

    Useful for tests, imports and synthetic data; statistics come from the stored values.

    Example:
        >>> write_store("toy.h5", [["a", "b"]], [np.ones((2, 1, 3))])  # doctest: +SKIP
    """
    if len(sentences) != len(activations):
        raise StoreError(f"{len(sentences)} sentences but {len(activations)} activation arrays")
    arrays = [np.asarray(a) for a in activations]
    shapes = {a.shape[1:] for a in arrays if a.ndim == 3}
    if any(a.ndim != 3 for a in arrays) or len(shapes) > 1:
        raise StoreError("every activation array must be [n_words, n_layers, width] with the same "
                         "n_layers and width")
    n_layers, width = shapes.pop() if shapes else (len(layers or [0]), 0)
    for i, (words, a) in enumerate(zip(sentences, arrays, strict=True)):
        if len(words) != a.shape[0]:
            raise StoreError(f"sentence {i} has {len(words)} words but {a.shape[0]} rows")
    layers = list(range(n_layers)) if layers is None else list(layers)
    if len(layers) != n_layers:
        raise StoreError(f"{len(layers)} layer numbers for {n_layers} stored layers")
    attrs = {"model": "", "aggregation": "", "component": "hidden"}
    attrs.update(meta or {})
    w = StoreWriter.create(path, [list(s) for s in sentences], layers=layers, width=width,
                           dtype=dtype, attrs=attrs, overwrite=overwrite)
    stats = RunningStats.empty((n_layers, width))
    start = 0
    for a in arrays:
        stored = a.astype(dtype)
        w.write_rows(start, stored)
        stats.update(stored.astype(np.float64))
        start += len(a)
    w.finalize(stats)
    return Path(path)
