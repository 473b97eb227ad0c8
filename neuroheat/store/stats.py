"""Per-neuron running statistics (count, mean, M2, min, max) merged with Chan's formula.

Example:
    >>> import numpy as np
    >>> s = RunningStats.empty((1, 2))
    >>> s.update(np.array([[[1.0, 2.0]], [[3.0, 6.0]]]))
    >>> s.mean.tolist(), s.variance.tolist()
    ([[2.0, 4.0]], [[1.0, 4.0]])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class RunningStats:
    """Statistics over rows, one value per neuron (any trailing shape)."""

    count: np.ndarray
    mean: np.ndarray
    M2: np.ndarray
    min: np.ndarray
    max: np.ndarray

    @classmethod
    def empty(cls, shape: tuple[int, ...]) -> RunningStats:
        """Statistics of no rows: count 0, min +inf, max -inf."""
        return cls(
            np.zeros(shape), np.zeros(shape), np.zeros(shape),
            np.full(shape, np.inf), np.full(shape, -np.inf),
        )

    @classmethod
    def of(cls, rows: np.ndarray) -> RunningStats:
        """Statistics of ``rows`` (first axis = observations), in float64."""
        x = np.asarray(rows, dtype=np.float64)
        n = x.shape[0]
        shape = x.shape[1:]
        if n == 0:
            return cls.empty(shape)
        mean = x.mean(axis=0)
        m2 = ((x - mean) ** 2).sum(axis=0)
        return cls(np.full(shape, float(n)), mean, m2, x.min(axis=0), x.max(axis=0))

    def merge(self, other: RunningStats) -> RunningStats:
        """Chan et al.'s parallel combination of two partial statistics."""
        n_a, n_b = self.count, other.count
        n = n_a + n_b
        with np.errstate(invalid="ignore", divide="ignore"):
            delta = other.mean - self.mean
            frac = np.where(n > 0, n_b / np.where(n > 0, n, 1), 0.0)
            mean = self.mean + delta * frac
            m2 = self.M2 + other.M2 + delta**2 * np.where(n > 0, n_a * frac, 0.0)
        return RunningStats(n, mean, m2, np.minimum(self.min, other.min),
                            np.maximum(self.max, other.max))

    def update(self, rows: np.ndarray) -> None:
        """Merge the statistics of new rows in place."""
        merged = self.merge(RunningStats.of(rows))
        self.count, self.mean, self.M2, self.min, self.max = (
            merged.count, merged.mean, merged.M2, merged.min, merged.max)

    @property
    def variance(self) -> np.ndarray:
        """Population variance (M2 / count); 0 where count is 0."""
        return np.where(self.count > 0, self.M2 / np.where(self.count > 0, self.count, 1), 0.0)

    @property
    def std(self) -> np.ndarray:
        """Population standard deviation."""
        return np.sqrt(self.variance)

    def as_dict(self) -> dict[str, np.ndarray]:
        """The five arrays by name (``count, mean, M2, min, max``)."""
        return {"count": self.count, "mean": self.mean, "M2": self.M2, "min": self.min,
                "max": self.max}

    @classmethod
    def from_dict(cls, d: dict[str, np.ndarray]) -> RunningStats:
        """Statistics from :meth:`as_dict` arrays (as float64)."""
        return cls(*(np.asarray(d[k], dtype=np.float64) for k in ("count", "mean", "M2", "min",
                                                                  "max")))
