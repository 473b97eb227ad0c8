"""Several shard files read as one corpus, in sentence order, without copying anything.

Shards written by ``neuroheat extract --shard`` record their sentence range
(``sentence_start``/``sentence_stop`` of ``num_sentences_total``); they are ordered by it
(not by file name, so ``shard10`` after ``shard9``), and must cover the corpus exactly once:
gaps, overlaps and shards of different models or settings raise
:class:`~neuroheat.errors.StoreError` naming the files. Stores without a recorded range (e.g.
written with :func:`write_store`) are concatenated in the order given.

Example:
    >>> with open_store("acts-shard*of4.h5") as store:        # doctest: +SKIP
    ...     store.num_sentences, store.neuron(3, 17).shape
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.errors import StoreError
from neuroheat.store.base import DEFAULT_CHUNK_MB, StoreBase, format_ranges
from neuroheat.store.file_reader import FileReader
from neuroheat.store.part import Kernel
from neuroheat.store.reader import open_part
from neuroheat.store.stats import RunningStats

# Attributes that must agree between shards of one corpus (when present), plus those a store
# names in its ``match_settings`` attribute (the extraction config's match fields: the store
# does not know extraction settings, the extractor says which of them define a store).
MATCH_ATTRS = ("model", "revision", "tokenizer", "model_type", "aggregation", "component",
               "dtype", "include_special_tokens", "corpus_sha256", "max_length",
               "random_weights", "seed", "num_sentences_total", "format_version")
SHARD_ATTRS = ("sentence_start", "sentence_stop", "shard_index", "num_shards")


def order_shards(stores: Sequence[Any]) -> list[Any]:
    """Validate that ``stores`` are shards of one corpus and return them in sentence order.

    Raises StoreError for different models/settings/layers/width, gaps, overlaps, missing or
    duplicated shards.
    """
    if not stores:
        raise StoreError("no shard given")
    first = stores[0]
    for other in stores[1:]:
        _check_same(first, other)
    ranged = ["sentence_start" in s.meta for s in stores]
    if not any(ranged):
        return list(stores)
    if not all(ranged):
        plain = [str(s.path) for s, r in zip(stores, ranged, strict=True) if not r]
        raise StoreError(f"{', '.join(plain)} record no sentence range but other shards do; "
                         "merge only shards of one `neuroheat extract --shard` run")
    ordered = sorted(stores, key=lambda s: (int(s.meta["sentence_start"]),
                                            int(s.meta["sentence_stop"])))
    total = int(first.meta.get("num_sentences_total", ordered[-1].meta["sentence_stop"]))
    expected = 0
    prev = None
    for s in ordered:
        start, stop = int(s.meta["sentence_start"]), int(s.meta["sentence_stop"])
        # token units: the range counts corpus rows, the store holds their contexts
        if stop - start != s.num_sentences and s.meta.get("units") != "tokens":
            raise StoreError(f"{s.path} records sentences {start}..{stop - 1} but holds "
                             f"{s.num_sentences}; the file is damaged")
        if start > expected:
            raise StoreError(f"sentences {expected}..{start - 1} of {total} are missing: no "
                             f"shard covers them (next shard: {s.path.name}); extract the "
                             f"missing shard{_hint(s)}")
        if start < expected:
            raise StoreError(f"{s.path.name} (sentences {start}..{stop - 1}) overlaps "
                             f"{prev.path.name} (sentences up to {expected - 1}); pass each "
                             "shard once, all from the same --shard N")
        expected, prev = stop, s
    if expected != total:
        raise StoreError(f"sentences {expected}..{total - 1} of {total} are missing: no shard "
                         f"covers them (last shard given: {ordered[-1].path.name}); extract "
                         f"the missing shard{_hint(ordered[-1], after=True)}")
    return ordered


def _hint(store: Any, after: bool = False) -> str:
    n = store.meta.get("num_shards")
    i = store.meta.get("shard_index")
    if n is None or i is None:
        return ""
    missing = int(i) + 1 if after else int(i) - 1
    return f" (probably --shard {missing}/{n})" if 0 <= missing < int(n) else ""


def match_keys(store: Any) -> list[str]:
    """The attributes ``store`` must share with the other shards of its corpus."""
    named = str(store.meta.get("match_settings") or "")
    extra = [k for k in named.split(",") if k and k not in MATCH_ATTRS]
    return [*MATCH_ATTRS, *extra]


def _check_same(a: Any, b: Any) -> None:
    if a.layout != b.layout:
        raise StoreError(f"{b.path.name} is a {_kind(b)} store but {a.path.name} is "
                         f"{_kind(a)}: dense and sparse (SAE latent) stores are not shards of "
                         "one corpus and cannot be read or merged as one")
    for key in dict.fromkeys(match_keys(a) + match_keys(b)):
        va, vb = a.meta.get(key), b.meta.get(key)
        if va is not None and vb is not None and str(va) != str(vb):
            raise StoreError(f"{b.path.name} and {a.path.name} are not shards of one corpus "
                             f"and model: {key} is {vb!r} vs {va!r}")
    if list(a.layers) != list(b.layers):
        raise StoreError(f"{b.path.name} stores layers {format_ranges(list(b.layers))} but "
                         f"{a.path.name} stores {format_ranges(list(a.layers))}; extract every "
                         "shard with the same --layers")
    if a.width != b.width:
        raise StoreError(f"{b.path.name} has width {b.width} but {a.path.name} has "
                         f"{a.width}; shards must come from the same model and component")


def _kind(store: Any) -> str:
    return "sparse (SAE latent)" if store.sparse else "dense"


class ShardedStore(StoreBase):
    """Shard files read as one store (same reader interface as one file)."""

    def __init__(self, paths: Sequence[str | os.PathLike], *, allow_incomplete: bool = False):
        if not paths:
            raise StoreError("no shard path given")
        resolved = [Path(p).resolve() for p in paths]
        dupes = {str(p) for p in resolved if resolved.count(p) > 1}
        if dupes:
            raise StoreError(f"shard {sorted(dupes)[0]} is given more than once")
        opened: list[FileReader] = []
        try:
            for p in paths:
                opened.append(open_part(p, allow_incomplete=allow_incomplete))
            self.shards: list[FileReader] = order_shards(opened)
        except Exception:
            for s in opened:
                s.close()
            raise
        self.path = self.shards[0].path

    def close(self) -> None:
        """Close every shard file."""
        for s in self.shards:
            s.close()

    @property
    def parts(self) -> list[FileReader]:
        """The shard stores, in sentence order."""
        return self.shards

    @property
    def layout(self) -> str:
        """The shards' layout, ``"dense"`` or ``"sparse-csr"`` (one for all: checked)."""
        return self.shards[0].layout

    @property
    def sparse(self) -> bool:
        """Whether the shards store SAE latents as CSR rows."""
        return self.shards[0].sparse

    def implementation(self, kernel: Kernel) -> Callable[..., Any]:
        """The function of ``kernel`` for the shards' layout."""
        return self.shards[0].implementation(kernel)

    def __repr__(self) -> str:
        return (f"<neuroheat ShardedStore of {len(self.shards)} shards ({self.path.name}, ...): "
                f"{self.num_sentences} sentences, {self.num_words} words, layers {self.layers}, "
                f"width {self.width}>")

    # -- metadata ---------------------------------------------------------------------------
    @cached_property
    def meta(self) -> dict[str, Any]:
        """The first shard's attributes, with the range and shard fields of the whole."""
        meta = dict(self.shards[0].meta)
        for key in SHARD_ATTRS:
            meta.pop(key, None)
        if "sentence_start" in self.shards[0].meta:
            meta["sentence_start"] = int(self.shards[0].meta["sentence_start"])
            meta["sentence_stop"] = int(self.shards[-1].meta["sentence_stop"])
        meta["complete"] = self.complete
        meta["shards"] = [str(p) for p in self.paths]
        return meta

    @property
    def layers(self) -> list[int]:
        """Model layer numbers of the stored layers (the same in every shard)."""
        return self.shards[0].layers

    @property
    def num_layers(self) -> int:
        """Number of stored layers."""
        return len(self.layers)

    @property
    def width(self) -> int:
        """Width of a stored vector (the same in every shard)."""
        return self.shards[0].width

    @cached_property
    def offsets(self) -> np.ndarray:
        """int64 ``[num_sentences + 1]`` row offsets of the whole corpus."""
        parts = [self.shards[0].offsets[:1]]
        for s, base in zip(self.shards, self.row_starts, strict=False):
            parts.append(s.offsets[1:] + base)
        return np.concatenate(parts).astype(np.int64)

    @property
    def num_sentences(self) -> int:
        """Number of sentences of all shards."""
        return int(self.sentence_starts[-1])

    @property
    def num_words(self) -> int:
        """Number of rows (words) of all shards."""
        return int(self.row_starts[-1])

    @property
    def complete(self) -> bool:
        """Whether every shard's extraction finished."""
        return all(s.complete for s in self.shards)

    def layer_index(self, layer: int) -> int:
        """Position of model layer ``layer`` on the stored layer axis."""
        return self.shards[0].layer_index(layer)

    def _locate(self, i: int) -> tuple[FileReader, int]:
        n = self.num_sentences
        if not -n <= int(i) < n:
            raise StoreError(f"sentence {i} is out of range: the store has {n} sentences "
                             f"(0..{n - 1})")
        i = int(i) % n
        k = int(np.searchsorted(self.sentence_starts, i, side="right") - 1)
        return self.shards[k], i - int(self.sentence_starts[k])

    # -- data -------------------------------------------------------------------------------
    def words(self, i: int) -> list[str]:
        """The stored words of (global) sentence ``i``."""
        shard, local = self._locate(i)
        return shard.words(local)

    def all_words(self) -> list[str]:
        """Every row's word, in corpus order."""
        return [w for s in self.shards for w in s.all_words()]

    @property
    def units(self) -> str:
        """``"words"`` or ``"tokens"`` (the same in every shard)."""
        return self.shards[0].units

    @cached_property
    def token_ids(self) -> np.ndarray | None:
        """int64 ``[num_words]`` token id of every row (token units), else None."""
        parts = [s.token_ids for s in self.shards]
        return None if any(p is None for p in parts) else np.concatenate(parts)

    def source(self, i: int) -> dict[str, Any]:
        """Where (global) sentence ``i`` comes from: ``{"row", "start", "end"}``."""
        shard, local = self._locate(i)
        return shard.source(local)

    def sources(self) -> np.ndarray | None:
        """int64 ``[num_sentences, 4]`` source records of all shards, or None (word units)."""
        parts = [s._sources for s in self.shards]
        return None if any(p is None for p in parts) else np.concatenate(parts)

    def sentence(self, i: int, layer: int | None = None) -> np.ndarray:
        """float32 ``[n_words, num_layers, width]`` of sentence ``i``, or ``[n_words, width]``."""
        shard, local = self._locate(i)
        return shard.sentence(local, layer=layer)

    def rows(self, layer: int, start: int, stop: int) -> np.ndarray:
        """float32 rows ``start:stop`` of one layer (may span shards)."""
        self.layer_index(layer)
        start, stop, _ = slice(start, stop).indices(self.num_words)
        parts = []
        for k, s in enumerate(self.shards):
            a, b = int(self.row_starts[k]), int(self.row_starts[k + 1])
            lo, hi = max(start, a), min(stop, b)
            if lo < hi:
                parts.append(s.rows(layer, lo - a, hi - a))
        if not parts:
            return np.zeros((0, self.width), dtype=np.float32)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def neuron(self, layer: int, index: int) -> np.ndarray:
        """One neuron over every row of the corpus, float32 ``[num_words]``."""
        return np.concatenate([s.neuron(layer, index) for s in self.shards]
                              or [np.zeros(0, np.float32)])

    def iter_rows(self, layer: int, chunk_mb: float = DEFAULT_CHUNK_MB
                  ) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(global start_row, float32 rows)``; chunks never span two shards."""
        self.layer_index(layer)
        for base, s in zip(self.row_starts, self.shards, strict=False):
            for start, chunk in s.iter_rows(layer, chunk_mb=chunk_mb):
                yield int(base) + start, chunk

    def iter_stored_rows(self, layer: int, chunk_mb: float = DEFAULT_CHUNK_MB
                         ) -> Iterator[tuple[int, np.ndarray]]:
        """Like :meth:`iter_rows` in the stored dtype (see ``Store.iter_stored_rows``)."""
        self.layer_index(layer)
        for base, s in zip(self.row_starts, self.shards, strict=False):
            for start, chunk in s.iter_stored_rows(layer, chunk_mb=chunk_mb):
                yield int(base) + start, chunk

    @cached_property
    def _type_maps(self) -> tuple[list[str], list[np.ndarray]]:
        index: dict[str, int] = {}
        maps = []
        for s in self.shards:  # local vocabularies are first-seen ordered, so is the union
            maps.append(np.fromiter((index.setdefault(w, len(index)) for w in s.vocab),
                                    dtype=np.int64, count=len(s.vocab)))
        return list(index), maps

    def type_map(self, part: int) -> np.ndarray:
        """int64 array mapping shard ``part``'s local word ids to global type ids."""
        return self._type_maps[1][part]

    @cached_property
    def word_ids(self) -> np.ndarray:
        """int32 ``[num_words]``: each row's index into :attr:`vocab`."""
        ids = [self.type_map(k)[s.word_ids] if len(s.word_ids) else np.zeros(0, np.int64)
               for k, s in enumerate(self.shards)]
        return np.concatenate(ids).astype(np.int32)

    @property
    def vocab(self) -> list[str]:
        """Word types of the whole corpus, in first-seen order (as a single run has them)."""
        return self._type_maps[0]

    @cached_property
    def untokenized(self) -> np.ndarray:
        """Global rows of words that tokenized to nothing."""
        return np.concatenate([s.untokenized.astype(np.int64) + base
                               for s, base in zip(self.shards, self.row_starts, strict=False)])

    def merged_stats(self) -> RunningStats:
        """Statistics of all shards combined with Chan's formula."""
        total = RunningStats.from_dict(self.shards[0].stats())
        for s in self.shards[1:]:
            total = total.merge(RunningStats.from_dict(s.stats()))
        return total

    @cached_property
    def _stats(self) -> dict[str, np.ndarray]:
        return self.merged_stats().as_dict()

    def stats(self, layer: int | None = None) -> dict[str, np.ndarray]:
        """Per-neuron ``count, mean, M2, min, max`` of all shards (Chan's formula)."""
        if layer is None:
            return {k: v.copy() for k, v in self._stats.items()}
        pos = self.layer_index(layer)
        return {k: v[pos].copy() for k, v in self._stats.items()}
