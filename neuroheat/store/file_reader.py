"""What every single-file store reader shares: the HDF5 file, its attributes and the per-word
datasets (offsets, words, word types), whatever the activation layout.

:class:`FileReader` is the base of :class:`~neuroheat.store.reader.Store` (dense rows) and
:class:`~neuroheat.store.sparse_reader.SparseStore` (latents in CSR); each adds how its
activations are read, what its ``_check`` verifies and the layout's side of the
:class:`~neuroheat.store.part.StorePart` protocol.

Example:
    >>> with open_store("acts.h5") as store:                # doctest: +SKIP
    ...     store.meta["model"], store.num_words, store.words(0)
"""

from __future__ import annotations

import json
import os
from functools import cached_property
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from neuroheat.errors import StoreError
from neuroheat.store import layout as L
from neuroheat.store.base import StoreBase
from neuroheat.store.part import StorePart

__all__ = ["FileReader", "decode_attr"]


def decode_attr(value: Any) -> Any:
    """An HDF5 attribute as a plain Python value (bytes → str, arrays → lists, JSON → objects)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class FileReader(StoreBase, StorePart):
    """One open store file: attributes and per-word datasets (see the module docstring)."""

    def __init__(self, path: str | os.PathLike, *, allow_incomplete: bool = False):
        self.path = Path(path)
        if not self.path.exists():
            raise StoreError(f"{self.path} does not exist")
        try:
            self._file = h5py.File(self.path, "r")
        except OSError as exc:
            raise StoreError(self._unreadable(exc)) from exc
        try:
            self._check(allow_incomplete)
        except Exception:
            self._file.close()
            raise

    def _unreadable(self, exc: OSError) -> str:
        """The message when the file does not open as HDF5."""
        return f"{self.path} is not a readable HDF5 file: {exc}"

    def _check(self, allow_incomplete: bool) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    # -- metadata ---------------------------------------------------------------------------
    @cached_property
    def meta(self) -> dict[str, Any]:
        """Every attribute of the store as plain Python values."""
        return {k: decode_attr(v) for k, v in self._file.attrs.items()}

    @cached_property
    def layers(self) -> list[int]:
        """Model layer numbers of the stored layers, in stored order."""
        return [int(x) for x in self._file.attrs["layers"]]

    @property
    def num_layers(self) -> int:
        """Number of stored layers."""
        return len(self.layers)

    @cached_property
    def width(self) -> int:
        """Width of a stored vector (hidden size, feed-forward width, or SAE latents)."""
        return int(self._file.attrs["width"])

    @cached_property
    def offsets(self) -> np.ndarray:
        """int64 ``[num_sentences + 1]``: rows of sentence i are ``offsets[i]:offsets[i+1]``."""
        return self._file[L.OFFSETS][...]

    @property
    def num_sentences(self) -> int:
        """Number of sentences."""
        return len(self.offsets) - 1

    @property
    def num_words(self) -> int:
        """Number of rows (words) of the corpus."""
        return int(self.offsets[-1])

    @property
    def complete(self) -> bool:
        """Whether the extraction finished (activations and statistics are written last)."""
        return bool(self._file.attrs.get("complete", False))

    def stats(self, layer: int | None = None) -> dict[str, np.ndarray]:
        """Per-neuron ``count, mean, M2, min, max`` (float64) over every row (a sparse
        store's zeros included), of one layer or of all."""
        g = self._file[L.STATS]
        if layer is None:
            return {k: g[k][...] for k in L.STAT_NAMES}
        pos = self.layer_index(layer)
        return {k: g[k][pos] for k in L.STAT_NAMES}

    def layer_index(self, layer: int) -> int:
        """Position of model layer ``layer`` on the stored layer axis."""
        return self.layers.index(self.check_layer(layer))

    def _check_sentence(self, i: int) -> int:
        if not -self.num_sentences <= int(i) < self.num_sentences:
            raise StoreError(f"sentence {i} is out of range: the store has "
                             f"{self.num_sentences} sentences (0..{self.num_sentences - 1})")
        return int(i) % max(self.num_sentences, 1)

    def sentence(self, i: int, layer: int | None = None) -> np.ndarray:
        """float32 ``[n_words, num_layers, width]``, or ``[n_words, width]`` for one layer
        (a sparse store's zeros filled in)."""
        i = self._check_sentence(i)
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        if layer is not None:
            return self.rows(layer, a, b)
        out = np.empty((b - a, self.num_layers, self.width), dtype=np.float32)
        for pos, lay in enumerate(self.layers):
            out[:, pos] = self.rows(lay, a, b)
        return out

    def rows(self, layer: int, start: int, stop: int) -> np.ndarray:  # pragma: no cover
        """float32 rows ``start:stop`` of one layer (each reader reads its own layout)."""
        raise NotImplementedError

    # -- per-word datasets ------------------------------------------------------------------
    def words(self, i: int) -> list[str]:
        """The stored words (row strings) of sentence ``i``."""
        i = self._check_sentence(i)
        a, b = self.offsets[i], self.offsets[i + 1]
        return [w.decode("utf-8") if isinstance(w, bytes) else w
                for w in self._file[L.WORDS][a:b]]

    def all_words(self) -> list[str]:
        """Every row's word, in corpus order."""
        return self._file[L.WORDS].asstr()[...].tolist()

    @cached_property
    def word_ids(self) -> np.ndarray:
        """int32 ``[num_words]``: each row's index into :attr:`vocab`."""
        return self._file[L.WORD_IDS][...]

    @cached_property
    def vocab(self) -> list[str]:
        """Word types of the corpus, in first-seen order."""
        return self._file[L.VOCAB].asstr()[...].tolist()

    @property
    def units(self) -> str:
        """``"words"`` (a row per word; also stores from before token units) or ``"tokens"``."""
        return str(self.meta.get("units") or "words")

    @cached_property
    def token_ids(self) -> np.ndarray | None:
        """int64 ``[num_words]`` token id of every row (token units), else None."""
        from neuroheat.store.records import read_token_ids

        return read_token_ids(self._file)

    @cached_property
    def _sources(self) -> np.ndarray | None:
        from neuroheat.store.records import read_sources

        return read_sources(self._file)

    def source(self, i: int) -> dict[str, Any]:
        """Where sentence (context) ``i`` comes from: ``{"row", "start", "end"}``, the 0-based
        corpus row and the character span of its text (token units).

        Example:
            >>> store.source(0)   # doctest: +SKIP
            {'row': 0, 'start': 0, 'end': 118}
        """
        from neuroheat.store.records import source_of

        return source_of(self._sources, self._check_sentence(i))

    @cached_property
    def untokenized(self) -> np.ndarray:
        """Rows of words that tokenized to nothing (they were fed as the unknown token)."""
        return self._file[L.UNTOKENIZED][...] if L.UNTOKENIZED in self._file else np.zeros(0, int)
