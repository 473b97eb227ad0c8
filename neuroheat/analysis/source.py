"""One view over what analysis functions accept: a Store, a sharded store, or path(s)/glob.

A :class:`Source` is an ordered list of *parts* (one per shard file, or one opaque store-like
object) with the bookkeeping every analysis needs to merge per-part results exactly:

* global per-neuron statistics, merged across parts with Chan's formula (float64);
* a global vocabulary in first-occurrence order of the concatenated corpus, with one int array
  per part mapping its local word ids to global type ids (shards have their own vocabularies,
  so partial results are merged by word *string*);
* the global row and sentence offset of each part.

Example:
    >>> with open_source("acts.h5") as src:            # doctest: +SKIP
    ...     src.num_words, src.layers, len(src.vocab)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import IncompleteStoreError, InputError, StoreError
from neuroheat.store.stats import RunningStats

StoreLike = Any  # neuroheat Store, ShardedStore, or anything with the same reader interface
SourceArg = Any  # StoreLike | str | os.PathLike | Sequence[str | os.PathLike]


def _ranges(values: Sequence[int]) -> str:
    values = list(values)
    if values and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}..{values[-1]}"
    return ", ".join(map(str, values))


@dataclass
class Source:
    """Ordered parts of one corpus. Build it with :func:`open_source`."""

    parts: list[StoreLike]
    _owned: list[StoreLike] = field(default_factory=list, repr=False)

    # -- lifetime ----------------------------------------------------------------------------
    def close(self) -> None:
        for store in self._owned:
            store.close()
        self._owned = []

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- shape -------------------------------------------------------------------------------
    @cached_property
    def layers(self) -> list[int]:
        return list(self.parts[0].layers)

    @cached_property
    def hidden_size(self) -> int:
        return int(self.parts[0].hidden_size)

    @cached_property
    def row_starts(self) -> np.ndarray:
        """Global row index of each part's first row, plus the total at the end."""
        sizes = [int(p.num_words) for p in self.parts]
        return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    @cached_property
    def sentence_starts(self) -> np.ndarray:
        sizes = [int(p.num_sentences) for p in self.parts]
        return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    @property
    def num_words(self) -> int:
        return int(self.row_starts[-1])

    @property
    def paths(self) -> list[Path] | None:
        """File path of every part, or None when a part has no path (opaque store object)."""
        paths = [getattr(p, "path", None) for p in self.parts]
        return None if any(p is None for p in paths) else [Path(p) for p in paths]

    # -- vocabulary --------------------------------------------------------------------------
    @cached_property
    def _vocab_maps(self) -> tuple[list[str], list[np.ndarray]]:
        index: dict[str, int] = {}
        maps = []
        for part in self.parts:
            local = part.vocab
            maps.append(np.fromiter((index.setdefault(w, len(index)) for w in local),
                                    dtype=np.int64, count=len(local)))
        return list(index), maps

    @property
    def vocab(self) -> list[str]:
        """Word types of the whole corpus in first-occurrence order (the tie-break order)."""
        return self._vocab_maps[0]

    def type_map(self, part: int) -> np.ndarray:
        """int64 array mapping local word ids of part ``part`` to global type ids."""
        return self._vocab_maps[1][part]

    @cached_property
    def type_counts(self) -> np.ndarray:
        """int64 ``[num_types]``: occurrences of each global word type."""
        counts = np.zeros(len(self.vocab), dtype=np.int64)
        for i, part in enumerate(self.parts):
            local = np.bincount(np.asarray(part.word_ids), minlength=len(part.vocab))
            counts[self.type_map(i)] += local
        return counts

    def type_id(self, word: str) -> int:
        """Global type id of ``word``; InputError with close matches when it is absent."""
        try:
            return self._type_index[word]
        except KeyError:
            import difflib

            lowered: dict[str, str] = {}
            for w in self.vocab:
                lowered.setdefault(w.lower(), w)
            close = [w for w in self.vocab if w.lower() == word.lower()][:5]
            close += [lowered[w] for w in difflib.get_close_matches(word.lower(), list(lowered),
                                                                    n=5)
                      if lowered[w] not in close][:5 - len(close)]
            hint = f"; close matches: {', '.join(map(repr, close))}" if close else ""
            raise InputError(f"word {word!r} does not occur in the corpus of this store "
                             f"(words are matched exactly, case-sensitively){hint}") from None

    @cached_property
    def _type_index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.vocab)}

    # -- statistics --------------------------------------------------------------------------
    def stats(self, layer: int) -> RunningStats:
        """Per-neuron statistics of one layer over every part (Chan merge, in part order)."""
        merged = RunningStats.from_dict(self.parts[0].stats(layer))
        for part in self.parts[1:]:
            merged = merged.merge(RunningStats.from_dict(part.stats(layer)))
        return merged

    # -- validation --------------------------------------------------------------------------
    def check_layer(self, layer: int) -> int:
        if isinstance(layer, bool) or not isinstance(layer, int | np.integer) \
                or int(layer) not in self.layers:
            raise StoreError(f"layer {layer} is not in this store; stored layers: "
                             f"{_ranges(self.layers)} (model layer numbers, 0 = embeddings)")
        return int(layer)

    def check_layers(self, layers: int | Sequence[int] | None) -> list[int]:
        if layers is None:
            return list(self.layers)
        if isinstance(layers, int | np.integer):
            layers = [int(layers)]
        return [self.check_layer(layer) for layer in layers]

    def check_neuron(self, neuron: int) -> int:
        if isinstance(neuron, bool) or not isinstance(neuron, int | np.integer) \
                or not 0 <= int(neuron) < self.hidden_size:
            raise InputError(f"neuron {neuron} is out of range: valid neurons are "
                             f"0..{self.hidden_size - 1}")
        return int(neuron)

    def locate_row(self, row: int) -> tuple[int, int]:
        """(part index, local row) of a global row."""
        part = int(np.searchsorted(self.row_starts, row, side="right") - 1)
        return part, int(row - self.row_starts[part])


def _parts_of(store: StoreLike) -> list[StoreLike]:
    shards = getattr(store, "shards", None)
    if isinstance(shards, list | tuple) and shards and all(hasattr(s, "iter_rows")
                                                           for s in shards):
        return list(shards)
    return [store]


def _is_store(obj: object) -> bool:
    return all(hasattr(obj, name) for name in ("iter_rows", "word_ids", "vocab", "stats"))


def open_source(source: SourceArg) -> Source:
    """Wrap a Store / ShardedStore, or open path(s) or a glob, as a :class:`Source`.

    Raises :class:`~neuroheat.errors.IncompleteStoreError` for an unfinished store (its
    statistics are written last, so analysis cannot trust it) and
    :class:`~neuroheat.errors.StoreError` for an empty store or shards of different models.
    """
    owned: list[StoreLike] = []
    if isinstance(source, Source):
        return Source(list(source.parts))
    if _is_store(source):
        parts = _parts_of(source)
    else:
        if not isinstance(source, str | os.PathLike) and not (
                isinstance(source, Sequence) and all(isinstance(s, str | os.PathLike)
                                                     for s in source)):
            raise InputError(f"expected a store, a store path, a list of paths or a glob, "
                             f"got {type(source).__name__}")
        from neuroheat.store import Store, expand_paths

        paths = expand_paths(source)
        try:
            if len(paths) == 1:
                owned.append(Store(paths[0]))
                parts = owned
            elif _sharded_store_class() is not None:
                owned.append(_sharded_store_class()(paths))
                parts = _parts_of(owned[0])
            else:  # no ShardedStore in this tree: read the files in the given order
                for p in paths:
                    owned.append(Store(p))
                parts = owned
        except Exception:
            for s in owned:
                s.close()
            raise
    try:
        return _checked(Source(list(parts), owned))
    except Exception:
        for s in owned:
            s.close()
        raise


def _sharded_store_class() -> Any:
    try:
        from neuroheat.store.sharded import ShardedStore
    except ImportError:
        return None
    return ShardedStore


def _checked(src: Source) -> Source:
    for part in src.parts:
        if getattr(part, "complete", True) is False:
            raise IncompleteStoreError(
                f"{getattr(part, 'path', 'the store')} is incomplete (extraction interrupted or "
                "still running); its statistics are written last, so analysis needs a finished "
                "store: finish it with `neuroheat extract ... --resume`")
        if list(part.layers) != src.layers or int(part.hidden_size) != src.hidden_size:
            raise StoreError(f"shard {getattr(part, 'path', '?')} has layers {list(part.layers)} "
                             f"and width {part.hidden_size}, the first has {src.layers} and "
                             f"{src.hidden_size}: shards must come from one extraction")
    if src.num_words == 0:
        raise StoreError("the store is empty (0 words): there is nothing to analyse; extract "
                         "a non-empty corpus first")
    if src.hidden_size == 0 or not src.layers:
        raise StoreError("the store holds no neurons (no layers or width 0)")
    return src
