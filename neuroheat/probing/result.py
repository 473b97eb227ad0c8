"""A neuron ranking over store columns: :class:`Ranking` (save / load as JSON, no pickle).

Columns are the neurons of the requested layers concatenated in the order given: column
``c`` is neuron ``neurons[c] = (layer, index)``.

Example:
    >>> import numpy as np
    >>> r = Ranking(order=np.array([1, 0]), scores=np.array([0.2, 0.9]),
    ...             neurons=np.array([[3, 0], [3, 1]]), method="probeless")
    >>> r.pairs()
    [[3, 1], [3, 0]]
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neuroheat.probing.files import read_doc, write_doc

_FORMAT_TAG = "neuroheat-ranking"

__all__ = ["Ranking", "column_neurons"]


def column_neurons(layers: list[int], width: int) -> np.ndarray:
    """int64 ``[len(layers) * width, 2]``: ``(layer, index)`` of each column."""
    return np.array([(lay, j) for lay in layers for j in range(width)],
                    dtype=np.int64).reshape(-1, 2)


@dataclass(frozen=True)
class Ranking:
    """``order``: column indices, most important first; ``scores[c]``: column c's score
    (higher is more important); ``neurons[c]``: its ``(layer, index)``."""

    order: np.ndarray
    scores: np.ndarray
    neurons: np.ndarray
    method: str

    def __len__(self) -> int:
        return len(self.order)

    def pairs(self, k: int | None = None) -> list[list[int]]:
        """``[layer, index]`` of the top ``k`` neurons (all when None), most important first."""
        order = self.order if k is None else self.order[:k]
        return [[int(a), int(b)] for a, b in self.neurons[order]]

    def save(self, path: str | os.PathLike) -> Path:
        """Write the ranking as JSON; :meth:`load` reads it back."""
        doc = {"method": self.method,
               "ranking": self.pairs(), "order": [int(c) for c in self.order],
               "scores": [float(s) for s in self.scores],
               "neurons": [[int(a), int(b)] for a, b in self.neurons]}
        return write_doc(path, _FORMAT_TAG, doc)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Ranking:
        """Read a ranking written by :meth:`save`."""
        doc = read_doc(path, _FORMAT_TAG, "a ranking", "Ranking.save")
        return cls(order=np.asarray(doc["order"], dtype=np.int64),
                   scores=np.asarray(doc["scores"], dtype=np.float64),
                   neurons=np.asarray(doc["neurons"], dtype=np.int64).reshape(-1, 2),
                   method=str(doc["method"]))
