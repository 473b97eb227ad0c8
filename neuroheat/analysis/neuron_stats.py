"""Per-neuron statistics: count, mean, std, min, max (from the store's statistics, no pass over
the rows) and, when a threshold is given, the fraction of words above it (one pass per layer).

Shards' statistics merge with Chan's formula; above-threshold counts are integers summed
across shards, so the fraction is exact.

Example:
    >>> s = neuron_stats("acts.h5", layers=[3], threshold=0.5)    # doctest: +SKIP
    >>> s.to_csv("stats.csv")                                       # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroheat.analysis.options import DEFAULT_CHUNK_MB, RunOptions
from neuroheat.analysis.parallel import map_parts
from neuroheat.analysis.results import TableResult
from neuroheat.analysis.source import SourceArg, open_source
from neuroheat.errors import InputError
from neuroheat.store import StoreBase

__all__ = ["NeuronStats", "count_above", "neuron_stats"]

_FIELDS = ("layer", "neuron", "count", "mean", "std", "min", "max")


@dataclass
class NeuronStats(TableResult):
    """One row per neuron: arrays ``layer, neuron, count, mean, std, min, max`` and, when a
    threshold was given, ``frac_above`` (fraction of words with activation > ``threshold``).
    ``std`` is the population standard deviation. A table result: its CSV has every column
    but not the ``threshold`` value (kept in JSON; ``None`` when loaded from CSV)."""

    layer: np.ndarray
    neuron: np.ndarray
    count: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    min: np.ndarray
    max: np.ndarray
    threshold: float | None = None
    frac_above: np.ndarray | None = None

    kind = "neuroheat.NeuronStats"

    def __len__(self) -> int:
        return len(self.layer)

    @property
    def columns(self) -> list[str]:
        """The column names (``frac_above`` only with a threshold)."""
        return [*_FIELDS, "frac_above"] if self.frac_above is not None else list(_FIELDS)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        cols = {c: getattr(self, c) for c in self.columns}
        for i in range(len(self)):
            row = {c: v[i].item() for c, v in cols.items()}
            row["count"] = int(row["count"])
            yield row

    def to_records(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per neuron."""
        return list(self)

    def csv_header(self) -> list[str]:
        """The column names, as :attr:`columns`."""
        return self.columns

    def csv_rows(self) -> Iterator[list[Any]]:
        """One row per neuron (``count`` as an int)."""
        for row in self:
            yield list(row.values())

    def settings(self) -> dict[str, Any]:
        """The ``threshold`` of ``frac_above`` (None without one)."""
        return {"threshold": self.threshold}

    @classmethod
    def from_records(cls, records: list[dict[str, Any]],
                     settings: dict[str, Any]) -> NeuronStats:
        """A table from :meth:`to_records` and :meth:`settings`."""
        def col(name: str, dtype: type) -> np.ndarray:
            return np.array([r[name] for r in records], dtype=dtype)

        ints = {"layer", "neuron"}
        above = bool(records) and "frac_above" in records[0] or \
            settings.get("threshold") is not None
        names = [*_FIELDS, "frac_above"] if above else list(_FIELDS)
        cols = {c: col(c, np.int64 if c in ints else np.float64) for c in names}
        return cls(**cols, threshold=settings.get("threshold"))

    @classmethod
    def from_csv_rows(cls, rows: list[dict[str, str]]) -> NeuronStats:
        """A table from the rows of its CSV (``threshold`` is None)."""
        records = [{k: (int(v) if k in ("layer", "neuron") else float(v)) for k, v in r.items()}
                   for r in rows]
        return cls.from_records(records, {})


def count_above(part: StoreBase, layer: int, threshold: float,
                chunk_mb: float = DEFAULT_CHUNK_MB) -> np.ndarray:
    """int64 ``[width]``: rows of ``part`` where each neuron of ``layer`` is > threshold
    (the part counts: a dense one over its rows, a sparse one among its non-zeros)."""
    return part.count_above(layer, threshold, chunk_mb)


def neuron_stats(
    store: SourceArg,
    layers: int | Sequence[int] | str | None = None,
    threshold: float | None = None,
    *,
    options: RunOptions | None = None,
    **run: Any,
) -> NeuronStats:
    """Statistics of every neuron of ``layers`` (model layer numbers; default all stored).

    ``options`` / ``**run``: :class:`~neuroheat.analysis.options.RunOptions` settings for the
    pass that ``threshold`` needs (``chunk_mb``, ``threads``, ``workers``, ``scheduler``).

    Example:
        >>> neuron_stats("acts.h5", layers=0).mean[:3]      # doctest: +SKIP
        array([ 0.01, -0.2 ,  0.13])
    """
    if threshold is not None:
        try:
            threshold = float(threshold)
        except (TypeError, ValueError):
            raise InputError(f"threshold must be a number, got {threshold!r}") from None
        if math.isnan(threshold):
            raise InputError("threshold must be a number, got NaN")
    options = RunOptions.build(options, **run)
    with open_source(store) as src:
        layers = src.check_layers(layers)
        width = src.width
        merged = [src.running_stats(layer) for layer in layers]

        def cat(field: str) -> np.ndarray:
            return np.concatenate([getattr(s, field) for s in merged])

        table = NeuronStats(
            layer=np.repeat(np.asarray(layers, dtype=np.int64), width),
            neuron=np.tile(np.arange(width, dtype=np.int64), len(layers)),
            count=cat("count"), mean=cat("mean"), std=cat("std"), min=cat("min"),
            max=cat("max"), threshold=threshold,
        )
        if threshold is not None:
            chunk_mb = options.chunk_mb / options.local_tasks
            calls = [(i, layer, threshold, chunk_mb)
                     for layer in layers for i in range(len(src.parts))]
            results = map_parts(count_above, src, calls, options)
            above = np.zeros(len(layers) * width, dtype=np.int64)
            for li in range(len(layers)):
                for _ in src.parts:
                    above[li * width:(li + 1) * width] += next(results)
            table.frac_above = above / np.maximum(table.count, 1)
        return table
