"""Top-words results: :class:`TopWordsTable` (many neurons' top words) and
:class:`NeuronScores` (the neurons a word scores highest for), both table results.

Example:
    >>> table = nh.analysis.top_words_all("acts.h5", k=5)            # doctest: +SKIP
    >>> table.get(6, 17); table.save("top.json")                     # doctest: +SKIP
    >>> TopWordsTable.load("top.json").to_records() == table.to_records()   # doctest: +SKIP
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from neuroheat.analysis.results import TableResult
from neuroheat.errors import InputError

__all__ = ["NeuronScore", "NeuronScores", "TopWords", "TopWordsTable"]


class TopWords(NamedTuple):
    """The top words of one neuron: ``words`` is a list of ``(word, score)``."""

    layer: int
    neuron: int
    words: list[tuple[str, float]]


@dataclass
class TopWordsTable(TableResult):
    """Top words of many neurons, stored compactly (type ids into ``vocab``).

    ``types[i]`` / ``scores[i]`` hold neuron i's ranked type ids and scores, padded with -1 /
    NaN. Iterate for :class:`TopWords` rows, or export with :meth:`to_records` /
    :meth:`to_csv` / :meth:`save`. The CSV is the long format ``layer,neuron,rank,word,score``:
    it has no row for a neuron without words and does not record ``k`` and
    ``min_threshold`` (a table loaded from CSV has them ``None``); JSON keeps all of it.
    """

    layer: np.ndarray
    neuron: np.ndarray
    types: np.ndarray
    scores: np.ndarray
    vocab: list[str]
    k: int | None
    min_threshold: float | None

    kind = "neuroheat.TopWordsTable"

    @classmethod
    def single(cls, layer: int, neuron: int, words: list[tuple[str, float]],
               k: int | None = None, min_threshold: float = 0.1) -> TopWordsTable:
        """A one-row table from a :func:`~neuroheat.analysis.top_words` result."""
        return cls(np.array([layer]), np.array([neuron]), np.arange(len(words))[None, :],
                   np.array([[s for _, s in words]], dtype=np.float64).reshape(1, len(words)),
                   [w for w, _ in words], k, min_threshold)

    @classmethod
    def from_rows(cls, rows: Iterable[TopWords], k: int | None = None,
                  min_threshold: float | None = None) -> TopWordsTable:
        """A table of :class:`TopWords` rows (the vocabulary is their words, first seen first)."""
        rows = list(rows)
        index: dict[str, int] = {}
        kmax = max((len(r.words) for r in rows), default=0)
        types = np.full((len(rows), kmax), -1, dtype=np.int64)
        scores = np.full((len(rows), kmax), np.nan)
        for i, r in enumerate(rows):
            for j, (word, score) in enumerate(r.words):
                types[i, j] = index.setdefault(word, len(index))
                scores[i, j] = float(score)
        return cls(np.array([r.layer for r in rows], dtype=np.int64),
                   np.array([r.neuron for r in rows], dtype=np.int64), types, scores,
                   list(index), k, min_threshold)

    def __len__(self) -> int:
        return len(self.layer)

    def words(self, i: int) -> list[tuple[str, float]]:
        """``(word, score)`` list of row i."""
        ids = self.types[i]
        n = int((ids >= 0).sum())
        return [(self.vocab[int(t)], float(s)) for t, s in zip(ids[:n], self.scores[i, :n],
                                                               strict=True)]

    def __iter__(self) -> Iterator[TopWords]:
        for i in range(len(self)):
            yield TopWords(int(self.layer[i]), int(self.neuron[i]), self.words(i))

    def get(self, layer: int, neuron: int) -> list[tuple[str, float]]:
        """Top words of one neuron (model layer number, neuron index)."""
        hits = np.flatnonzero((self.layer == layer) & (self.neuron == neuron))
        if not len(hits):
            raise InputError(f"layer {layer} neuron {neuron} is not in this table; layers: "
                             f"{sorted(set(self.layer.tolist()))}")
        return self.words(int(hits[0]))

    # -- table result -----------------------------------------------------------------------
    def to_records(self) -> list[dict[str, Any]]:
        """``[{"layer": L, "neuron": N, "words": [[word, score], ...]}, ...]`` (JSON-ready)."""
        return [{"layer": r.layer, "neuron": r.neuron, "words": [[w, s] for w, s in r.words]}
                for r in self]

    def csv_header(self) -> list[str]:
        """``layer, neuron, rank, word, score``."""
        return ["layer", "neuron", "rank", "word", "score"]

    def csv_rows(self) -> Iterator[list[Any]]:
        """``[layer, neuron, rank, word, score]``, rank from 1."""
        for r in self:
            for rank, (word, score) in enumerate(r.words, 1):
                yield [r.layer, r.neuron, rank, word, score]

    def settings(self) -> dict[str, Any]:
        """The ``k`` and ``min_threshold`` of the ranking."""
        return {"k": self.k, "min_threshold": self.min_threshold}

    @classmethod
    def from_records(cls, records: list[dict[str, Any]],
                     settings: dict[str, Any]) -> TopWordsTable:
        """A table from :meth:`to_records` and :meth:`settings`."""
        rows = [TopWords(int(r["layer"]), int(r["neuron"]),
                         [(str(w), float(s)) for w, s in r["words"]]) for r in records]
        return cls.from_rows(rows, settings.get("k"), settings.get("min_threshold"))

    @classmethod
    def from_csv_rows(cls, rows: list[dict[str, str]]) -> TopWordsTable:
        """A table from the rows of its CSV (``k`` and ``min_threshold`` None)."""
        grouped: dict[tuple[int, int], list[tuple[str, float]]] = {}
        for row in rows:
            key = (int(row["layer"]), int(row["neuron"]))
            grouped.setdefault(key, []).append((row["word"], float(row["score"])))
        return cls.from_rows(TopWords(layer, neuron, words)
                             for (layer, neuron), words in grouped.items())


class NeuronScore(NamedTuple):
    """A neuron (model layer number, index) and its normalised score for one word type."""

    layer: int
    neuron: int
    score: float


class NeuronScores(TableResult, list):
    """A list of :class:`NeuronScore` (the result of ``word_neurons``), best first, that is
    also a table result (``word`` is kept in JSON only)."""

    kind = "neuroheat.NeuronScores"

    def __init__(self, scores: Iterable[NeuronScore] = (), word: str | None = None):
        super().__init__(scores)
        self.word = word

    def to_records(self) -> list[dict[str, Any]]:
        """``[{"layer": L, "neuron": N, "score": S}, ...]``."""
        return [s._asdict() for s in self]

    def csv_header(self) -> list[str]:
        """``layer, neuron, score``."""
        return list(NeuronScore._fields)

    def csv_rows(self) -> Iterator[list[Any]]:
        """One row per neuron."""
        for s in self:
            yield list(s)

    def settings(self) -> dict[str, Any]:
        """The ``word`` that was scored."""
        return {"word": self.word}

    @classmethod
    def from_records(cls, records: list[dict[str, Any]],
                     settings: dict[str, Any]) -> NeuronScores:
        """Scores from :meth:`to_records` and :meth:`settings`."""
        return cls((NeuronScore(int(r["layer"]), int(r["neuron"]), float(r["score"]))
                    for r in records), settings.get("word"))

    @classmethod
    def from_csv_rows(cls, rows: list[dict[str, str]]) -> NeuronScores:
        """Scores from the rows of their CSV."""
        return cls(NeuronScore(int(r["layer"]), int(r["neuron"]), float(r["score"]))
                   for r in rows)
