"""What every store reader offers, one file or several: :class:`StoreBase`.

:class:`~neuroheat.store.reader.Store` (one file) and
:class:`~neuroheat.store.sharded.ShardedStore` (shard files read as one corpus) both derive
from it. Besides the container protocol (``with``, ``len``, ``store[i]``, ``layer in store``)
it gives analysis the bookkeeping to run per part (shard) and merge exactly: the ordered
``parts``, their global ``row_starts`` / ``sentence_starts``, a corpus-wide vocabulary with
one ``type_map`` per part (shards have their own vocabularies), word-type counts, merged
statistics, and the validation of layer and neuron numbers.

Example:
    >>> with open_store("acts-shard*of4.h5") as store:          # doctest: +SKIP
    ...     for i, part in enumerate(store.parts):
    ...         ids = store.type_map(i)[part.word_ids]            # global word type ids
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.deprecation import renamed
from neuroheat.errors import InputError, StoreError
from neuroheat.layerspec import parse_layers
from neuroheat.store.part import Kernel
from neuroheat.store.stats import RunningStats

#: MiB of activations a reader reads at once unless told otherwise (bounds memory)
DEFAULT_CHUNK_MB = 64.0


def format_ranges(values: Sequence[int]) -> str:
    """``"0..5"`` for a run of consecutive ints, else ``"0, 4, 6"``."""
    values = list(values)
    if values and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}..{values[-1]}"
    return ", ".join(map(str, values))


class StoreBase:
    """Base class of the store readers (see the module docstring)."""

    num_sentences: int
    num_words: int
    layers: list[int]
    width: int
    vocab: list[str]
    word_ids: np.ndarray
    complete: bool
    layout: str  # "dense" or "sparse-csr": what the parts' StorePart methods read

    @property
    def hidden_size(self) -> int:
        """Deprecated spelling of :attr:`width`."""
        renamed("store.width", "store.width")
        return self.width

    # -- to be provided by the readers ------------------------------------------------------
    def close(self) -> None:  # pragma: no cover - overridden
        """Close the file(s)."""
        raise NotImplementedError

    def sentence(self, i: int, layer: int | None = None) -> np.ndarray:  # pragma: no cover
        """float32 ``[n_words, num_layers, width]`` of sentence ``i``, or ``[n_words, width]``."""
        raise NotImplementedError

    def stats(self, layer: int | None = None) -> dict[str, np.ndarray]:  # pragma: no cover
        """Per-neuron ``count, mean, M2, min, max`` (float64) of one layer, or of all."""
        raise NotImplementedError

    def implementation(self, kernel: Kernel) -> Any:  # pragma: no cover - overridden
        """The function of ``kernel`` for this store's layout."""
        raise NotImplementedError

    def apply(self, kernel: Kernel, *args: Any) -> Any:
        """``kernel``'s function for this store's layout (dense or sparse), called with this
        store and ``args`` (see :mod:`~neuroheat.store.part`).

        Example:
            >>> table = store.apply(TOP_WORDS, layers, 10, 0.1)   # doctest: +SKIP
        """
        return self.implementation(kernel)(self, *args)

    @property
    def parts(self) -> list[Any]:
        """The one-file stores this reader is made of, in corpus order."""
        return [self]

    @property
    def paths(self) -> list[Path]:
        """File path of every part."""
        return [Path(p.path) for p in self.parts]

    def type_map(self, part: int) -> np.ndarray:
        """int64 array mapping the local word ids of part ``part`` to global type ids."""
        return np.arange(len(self.vocab), dtype=np.int64)

    # -- container protocol -----------------------------------------------------------------
    def __enter__(self):  # noqa: ANN204 - returns the subclass
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self.num_sentences

    def __getitem__(self, i: int) -> np.ndarray:
        return self.sentence(i)

    def __contains__(self, layer: object) -> bool:
        return isinstance(layer, int | np.integer) and int(layer) in self.layers

    # -- parts ------------------------------------------------------------------------------
    @cached_property
    def row_starts(self) -> np.ndarray:
        """int64: global row of each part's first row, plus the total at the end."""
        sizes = [int(p.num_words) for p in self.parts]
        return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    @cached_property
    def sentence_starts(self) -> np.ndarray:
        """int64: global index of each part's first sentence, plus the total at the end."""
        sizes = [int(p.num_sentences) for p in self.parts]
        return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    def locate_row(self, row: int) -> tuple[int, int]:
        """``(part index, local row)`` of a global row."""
        part = int(np.searchsorted(self.row_starts, row, side="right") - 1)
        return part, int(row - self.row_starts[part])

    # -- vocabulary -------------------------------------------------------------------------
    @cached_property
    def type_counts(self) -> np.ndarray:
        """int64 ``[len(vocab)]``: occurrences of each word type in the corpus."""
        counts = np.zeros(len(self.vocab), dtype=np.int64)
        for i, part in enumerate(self.parts):
            local = np.bincount(np.asarray(part.word_ids), minlength=len(part.vocab))
            counts[self.type_map(i)] += local
        return counts

    @cached_property
    def _type_index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.vocab)}

    def type_id(self, word: str) -> int:
        """Global type id of ``word``; InputError listing close matches when it is absent."""
        try:
            return self._type_index[word]
        except KeyError:
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

    # -- statistics and validation ----------------------------------------------------------
    def running_stats(self, layer: int) -> RunningStats:
        """Per-neuron statistics of one layer over the whole corpus (float64)."""
        return RunningStats.from_dict(self.stats(layer))

    def check_layer(self, layer: int) -> int:
        """``layer`` as an int; StoreError naming the stored layers when it is not stored."""
        if isinstance(layer, bool) or not isinstance(layer, int | np.integer) \
                or int(layer) not in self.layers:
            raise StoreError(f"layer {layer} is not in this store; stored layers: "
                             f"{format_ranges(self.layers)} (model layer numbers, "
                             "0 = embeddings)")
        return int(layer)

    def check_layers(self, layers: int | Sequence[int] | str | None) -> list[int]:
        """Checked model layer numbers, in the order given (``None`` or ``"all"``: every
        stored layer; a string is a layer spec such as ``"0,6"`` or ``"1-4"``)."""
        if isinstance(layers, str):
            layers = parse_layers(layers)
        if layers is None:
            return list(self.layers)
        if isinstance(layers, int | np.integer):
            layers = [int(layers)]
        return [self.check_layer(layer) for layer in layers]

    def check_neuron(self, neuron: int) -> int:
        """``neuron`` as an int; StoreError naming the valid range when it is out of range."""
        if isinstance(neuron, bool) or not isinstance(neuron, int | np.integer) \
                or not 0 <= int(neuron) < self.width:
            raise StoreError(f"neuron {neuron} is out of range: valid neurons are "
                             f"0..{self.width - 1}")
        return int(neuron)
