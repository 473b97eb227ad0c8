"""Training data of a probe, streamed from a store: :class:`ProbeData`.

Columns are any subset of the store's neurons: one layer, several layers concatenated
(``layers="0,6"``: layer 0's neurons, then layer 6's) or a list of ``(layer, neuron)`` pairs
(``neurons=[(3, 17), (5, 2)]``), in the order given. Rows are the store's words; a row whose
label id is negative is excluded.

Rows are read a block at a time (about ``chunk_mb`` MiB of float32 per block, float16 →
float32 per block), so the activations in memory are bounded by the chunk size (about twice
``chunk_mb`` while training), not the corpus — unless the selected rows fit in ``cache_mb``
(default 256 MiB), in which case one pass reads both splits into memory for the later epochs
(``cache_mb=0`` always streams). What does grow with the corpus is the per-row bookkeeping:
label ids, targets and split masks, about 20 bytes a row.

Settings come as a :class:`~neuroheat.probing.config.ProbeConfig` (``balance``,
``standardize``, ``task``, ``seed``, ``chunk_mb``, ``cache_mb``) and a
:class:`~neuroheat.probing.config.Split`, or as the same names as keywords.
Splits are by sentence: ``test_sentences=(start, stop)`` holds out sentences
``start..stop-1``; ``test_fraction=F`` holds out a seeded random ``round(F · n)`` of them.
:meth:`ProbeData.holdout` carves a development split out of the training sentences (the
default probe selects its penalty on it; the test rows are never part of it).
``balance=True`` undersamples the training rows of every class to the rarest class's count
(seeded). ``standardize=True`` centres and scales every column by the training split's mean
and standard deviation (one streaming pass, float64; a constant column gets std 1).

Example:
    >>> with open_store("acts.h5") as store:                           # doctest: +SKIP
    ...     labels = read_labels("train.conllu", store=store)
    ...     data = ProbeData(store, labels, layers="3", split=Split(test_fraction=0.2))
    ...     for x, y in data.chunks("train"):      # float32 [rows, columns], int64 [rows]
    ...         ...
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.probing.config import DEFAULT_CACHE_MB, TASKS, ProbeConfig, Split, resolve
from neuroheat.probing.labels import Labels
from neuroheat.probing.rows import (
    Picked,
    as_slice,
    cached_rows,
    concat_parts,
    read_rows,
    undersample,
)
from neuroheat.probing.splits import split_sentences

_MOMENT_BYTES = 4 * 2**20  # float64 temporaries of the moments pass, per block
SPLITS = ("train", "test")

__all__ = ["DEFAULT_CACHE_MB", "SPLITS", "TASKS", "ProbeData", "check_aligned",
           "select_columns", "split_sentences"]

LayersArg = int | Sequence[int] | str | None
Column = tuple[int, int]


def select_columns(store: Any, layers: LayersArg = None,
                   neurons: Sequence[Sequence[int]] | None = None) -> list[Column]:
    """``(layer, index)`` of every column: all neurons of ``layers`` (every stored layer when
    both are None), or the ``neurons`` pairs in the order given (not both)."""
    if neurons is not None:
        if layers is not None:
            raise InputError("give either layers= or neurons= (a list of (layer, neuron)), "
                             "not both")
        cols = []
        for pair in neurons:
            if len(pair) != 2:
                raise InputError(f"neurons= takes (layer, neuron) pairs, got {pair!r}")
            cols.append((store.check_layer(pair[0]), store.check_neuron(pair[1])))
        if not cols:
            raise InputError("neurons= is empty; give at least one (layer, neuron) pair")
        if len(set(cols)) != len(cols):
            raise InputError("neurons= lists a (layer, neuron) pair twice")
        return cols
    width = int(store.width)
    return [(lay, j) for lay in store.check_layers(layers) for j in range(width)]


def check_aligned(store: Any, labels: Labels, use: str = "probes on store rows") -> None:
    """InputError unless ``labels`` are word labels with the store's sentence lengths
    (``use`` names what needs them, in the message)."""
    if labels.sentence_level:
        raise InputError(f"{use} need word-level labels; these are sentence-level")
    if len(labels) != store.num_words or labels.num_sentences != store.num_sentences:
        raise InputError(f"the labels cover {len(labels)} words in {labels.num_sentences} "
                         f"sentences but the store has {store.num_words} words in "
                         f"{store.num_sentences} sentences; read them with "
                         "read_labels(..., store=store)")
    if not np.array_equal(np.asarray(labels.offsets), np.asarray(store.offsets)):
        raise InputError("the labels' sentence lengths differ from the store's; read them "
                         "with read_labels(..., store=store)")


def _targets(labels: Labels, task: str) -> np.ndarray:
    ids = np.asarray(labels.ids, dtype=np.int64)
    if task == "classification":
        return ids
    try:
        values = np.array([float(c) for c in labels.classes], dtype=np.float64)
    except ValueError:
        raise InputError("a regression probe needs numeric labels; these labels are not "
                         "all numbers") from None
    out = np.full(len(ids), np.nan)
    keep = ids >= 0
    out[keep] = values[ids[keep]]
    return out


class ProbeData:
    """The rows, columns, targets and splits of one probing task (see the module docstring).

    ``columns``: ``(layer, index)`` per column; ``targets``: int64 class id (classification)
    or float64 value (regression) per store row; ``masks[split]``: bool row mask of the
    ``"train"`` / ``"test"`` rows; ``mean`` / ``std``: float64 per column when standardised.
    """

    def __init__(self, store: Any, labels: Labels, *, layers: LayersArg = None,
                 neurons: Sequence[Sequence[int]] | None = None,
                 config: ProbeConfig | None = None, split: Split | None = None,
                 **settings: Any):
        config, split = resolve(config, split, settings, where="ProbeData")
        task, seed, balance = config.task, split.seed_or(config.seed), config.balance
        self.config, self.split, self.seed = config, split, seed
        check_aligned(store, labels)
        self.store, self.task, self.chunk_mb = store, task, float(config.chunk_mb)
        self.classes = list(labels.classes)
        self.columns = select_columns(store, layers, neurons)
        self.targets = _targets(labels, task)
        valid = np.asarray(labels.ids) >= 0
        test_rows = np.repeat(split_sentences(store.num_sentences,
                                              test_sentences=split.test_sentences,
                                              test_fraction=split.test_fraction, seed=seed),
                              np.diff(np.asarray(store.offsets)))
        train = valid & ~test_rows
        if balance:
            if task != "classification":
                raise InputError("balance=True undersamples classes: classification only")
            train = undersample(train, self.targets, seed)
        self.masks = {"train": train, "test": valid & test_rows}
        if not train.any():
            raise InputError("no training rows: every row is excluded or held out")
        layer_order: dict[int, list[int]] = {}
        for c, (lay, _) in enumerate(self.columns):
            layer_order.setdefault(lay, []).append(c)
        self._groups = [(lay, as_slice(cs), as_slice([self.columns[c][1] for c in cs]))
                        for lay, cs in layer_order.items()]
        full = slice(0, int(store.width))
        self._whole = (len(self._groups) == 1
                       and all(isinstance(v, slice) and v == full for v in self._groups[0][1:]))
        width = int(store.width) * len(self._groups)
        self._step = max(1, int(self.chunk_mb * 2**20) // (4 * max(width, 1)))
        size = int(train.sum() + self.masks["test"].sum()) * len(self.columns) * 4
        self._cache_ok = size <= float(config.cache_mb) * 2**20
        self._cache: dict[str, Any] = {}  # split -> (x, y), or rows.Picked
        self._moments: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self._standardize = bool(config.standardize)  # the cache holds standardised rows
        if config.standardize:
            self.mean, self.std = self._train_moments()

    def __repr__(self) -> str:
        return (f"ProbeData({self.task}, {len(self.columns)} columns, "
                f"{self.num_rows('train')} train / {self.num_rows('test')} test rows)")

    @property
    def in_memory(self) -> bool:
        """True when the selected rows fit in ``cache_mb`` (each split is one block)."""
        return self._cache_ok

    @property
    def num_columns(self) -> int:
        """Number of columns (neurons)."""
        return len(self.columns)

    def num_rows(self, split: str) -> int:
        """Rows of ``split`` (``"train"`` or ``"test"``)."""
        return int(self._mask(split).sum())

    def _mask(self, split: str) -> np.ndarray:
        if split not in SPLITS:
            raise InputError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
        return self.masks[split]

    def _raw_blocks(self, mask: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Unstandardised float32 ``[rows, columns]`` and targets of the masked rows, a block
        of store rows at a time."""
        for a, b, keep in self._block_rows(mask):
            yield self._gather(a, b, keep), self.targets[a + keep]

    def _block_rows(self, mask: np.ndarray) -> Iterator[tuple[int, int, np.ndarray]]:
        n = int(self.store.num_words)
        for a in range(0, n, self._step):
            b = min(n, a + self._step)
            keep = np.flatnonzero(mask[a:b])
            if len(keep):
                yield a, b, keep

    def _gather(self, a: int, b: int, keep: np.ndarray) -> np.ndarray:
        """float32 ``[len(keep), columns]``: rows ``a + keep`` of every selected column."""
        if self._whole:  # one whole layer in store order: the kept rows, no second copy
            rows = self.store.rows(self._groups[0][0], a, b)
            return rows if len(keep) == b - a else np.take(rows, keep, axis=0)
        x = np.empty((len(keep), len(self.columns)), dtype=np.float32)
        for lay, cols, idx in self._groups:
            rows = self.store.rows(lay, a, b)  # stored dtype -> float32, one block
            picked = np.take(rows, keep, axis=0)  # rows first: a copy of the kept rows only
            del rows
            x[:, cols] = picked[:, idx]
            del picked
        return x

    def moments(self, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """float64 mean and standard deviation of every raw column over ``split``'s rows (a
        constant column gets std 1); one streaming pass, or none when the split is cached."""
        key = f"moments:{split}"
        if key not in self._moments:
            total = np.zeros(len(self.columns))
            square = np.zeros(len(self.columns))
            count = 0
            step = max(1, _MOMENT_BYTES // (8 * max(1, len(self.columns))))
            for x, _ in self._raw_split(split):
                for c in range(0, len(x), step):  # float64 temporaries stay small
                    x64 = x[c:c + step].astype(np.float64)
                    total += x64.sum(axis=0)
                    square += np.einsum("ij,ij->j", x64, x64)
                count += len(x)
            mean = total / max(count, 1)
            std = np.sqrt(np.maximum(square / max(count, 1) - mean * mean, 0.0))
            std[std <= 1e-12 * np.maximum(1.0, np.abs(mean))] = 1.0
            self._moments[key] = (mean, std)
        return self._moments[key]

    def _raw_split(self, split: str) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Raw blocks of ``split``: from the cache when it holds raw rows, else the store."""
        if not self._standardize and self._cache_ok and split not in self._cache:
            self._fill_cache()  # the pass that fills the cache serves the moments too
        if self.mean is None and split in self._cache:
            yield cached_rows(self._cache[split])
            return
        yield from self._raw_blocks(self._mask(split))

    def _train_moments(self) -> tuple[np.ndarray, np.ndarray]:
        return self.moments("train")

    def read(self, *splits: str) -> None:
        """Read ``splits`` (default both) into memory now, in one pass, when they fit in
        ``cache_mb`` and are not read yet (``chunks`` reads what it needs by itself).

        Example:
            >>> data.read("test"); x, y = data.arrays("test")        # doctest: +SKIP
        """
        if self._cache_ok:
            self._fill_cache(splits or SPLITS)

    def _fill_cache(self, splits: Sequence[str] = SPLITS) -> None:
        """Read every split of ``splits`` not cached yet in one pass over the store."""
        todo = [s for s in splits if s not in self._cache]
        if not todo:
            return
        if self.mean is None:  # raw rows: converted and copied into place, one pass
            rows = {s: np.flatnonzero(self.masks[s]) for s in todo}
            out = {s: (np.empty((len(r), len(self.columns)), np.float32), 0)
                   for s, r in rows.items()}
            if read_rows(self.store, self._groups, rows, out, self.chunk_mb):
                self._cache.update({s: (out[s][0], self.targets[rows[s]]) for s in todo})
                return
        both = np.logical_or.reduce([self.masks[s] for s in todo])
        parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {s: [] for s in todo}
        for a, b, keep in self._block_rows(both):
            x = self.transform(self._gather(a, b, keep))
            rows = a + keep
            for split in todo:
                sel = np.flatnonzero(self.masks[split][rows])
                if len(sel):
                    part = x if len(sel) == len(rows) else np.take(x, sel, axis=0)
                    parts[split].append((part, self.targets[rows[sel]]))
            del x
        for split in todo:
            self._cache[split] = concat_parts(parts[split], len(self.columns), self.targets.dtype)

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Standardise raw float32 columns (unchanged when not standardising)."""
        if self.mean is None or self.std is None:
            return x
        return ((x - self.mean) / self.std).astype(np.float32)

    def chunks(self, split: str = "train") -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(x, y)``: float32 ``[rows, columns]`` (standardised if asked) and the
        targets of ``split``'s rows, in corpus order, a block at a time."""
        mask = self._mask(split)
        if self._cache_ok and split not in self._cache:
            self._fill_cache()
        if split in self._cache:
            yield cached_rows(self._cache[split])
            return
        for x, y in self._raw_blocks(mask):
            yield self.transform(x), y

    def arrays(self, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` of ``split`` in memory (for small data and tests)."""
        return concat_parts(list(self.chunks(split)), len(self.columns), self.targets.dtype)

    def holdout(self, fraction: float | None = None, seed: int | None = None, *,
                read: bool = True) -> ProbeData:
        """A copy whose ``"train"`` rows are the training rows of a seeded ``fraction`` of
        the training sentences left out (default ``split.dev_fraction``) and whose
        ``"test"`` rows are those left out: the development split. The test rows are in
        neither. Cached rows are shared (copied when first read), so no second pass over
        the store; ``read=False`` reads nothing now (the view reads what it is asked)."""
        f = float(self.split.dev_fraction if fraction is None else fraction)
        if not 0.0 < f < 1.0:
            raise InputError(f"the development fraction must be in (0, 1), got {f}")
        offsets = np.asarray(self.store.offsets)
        train = self.masks["train"]
        sentence_of_row = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        candidates = np.unique(sentence_of_row[train])
        k = round(f * len(candidates))
        if not 0 < k < len(candidates):
            raise InputError(f"{len(candidates)} training sentences are too few to hold out "
                             f"{f:g} of them for development; give l2= (--l2) instead")
        rng = np.random.default_rng([self.seed if seed is None else int(seed), 0x5e1ec7])
        dev_sentences = np.zeros(len(offsets) - 1, dtype=bool)
        dev_sentences[rng.permutation(candidates)[:k]] = True
        dev = train & dev_sentences[sentence_of_row]
        view = copy.copy(self)
        view.masks = {"train": train & ~dev, "test": dev}
        view._moments = {}
        view._cache = {}
        if self._cache_ok and read and "train" not in self._cache:
            self._fill_cache()
        if "train" in self._cache:
            x, y = cached_rows(self._cache["train"])
            in_dev = dev[np.flatnonzero(train)]  # the rows are copied when first read
            view._cache = {"train": Picked(x, y, np.flatnonzero(~in_dev)),
                           "test": Picked(x, y, np.flatnonzero(in_dev))}
        return view

    def head(self, fraction: float) -> ProbeData:
        """A copy whose ``"train"`` rows are the first ``fraction`` of this one's (corpus
        order; the test rows unchanged): cached rows are shared as a slice, no copy (rows
        not cached are read when asked). The penalty path fits its first penalty on such a
        part (:mod:`~.selection`)."""
        idx = np.flatnonzero(self.masks["train"])
        k = min(len(idx), max(1, round(float(fraction) * len(idx))))
        view = copy.copy(self)
        train = np.zeros_like(self.masks["train"])
        train[idx[:k]] = True
        view.masks = {**self.masks, "train": train}
        view._moments = {}
        view._cache = dict(self._cache)
        if "train" in view._cache:
            entry = view._cache["train"]
            view._cache["train"] = (entry.head(k) if isinstance(entry, Picked)
                                    else (entry[0][:k], entry[1][:k]))
        return view

    def batches(self, split: str, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Consecutive batches of exactly ``batch_size`` rows of ``split`` in corpus order
        (the last may be shorter), across block boundaries."""
        if int(batch_size) < 1:
            raise InputError(f"batch_size must be >= 1, got {batch_size}")
        bs = int(batch_size)
        left_x: np.ndarray | None = None
        left_y: np.ndarray | None = None
        for x, y in self.chunks(split):
            if left_x is not None and left_y is not None:
                x, y = np.concatenate([left_x, x]), np.concatenate([left_y, y])
            full = len(x) - len(x) % bs
            for a in range(0, full, bs):
                yield x[a:a + bs], y[a:a + bs]
            left_x, left_y = (x[full:], y[full:]) if full < len(x) else (None, None)
        if left_x is not None and left_y is not None:
            yield left_x, left_y
