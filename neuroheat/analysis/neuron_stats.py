"""Per-neuron statistics: count, mean, std, min, max (from the store's statistics, no pass over
the rows) and, when a threshold is given, the fraction of words above it (one pass per layer).

Shards' statistics merge with Chan's formula; above-threshold counts are integers summed
across shards, so the fraction is exact.

Example:
    >>> s = neuron_stats("acts.h5", layers=[3], threshold=0.5)    # doctest: +SKIP
    >>> s.to_csv("stats.csv")                                       # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroheat.analysis.parallel import ordered_map, use_pool
from neuroheat.analysis.source import SourceArg, StoreLike, open_source
from neuroheat.errors import InputError

_FIELDS = ("layer", "neuron", "count", "mean", "std", "min", "max")


@dataclass
class NeuronStats:
    """One row per neuron: arrays ``layer, neuron, count, mean, std, min, max`` and, when a
    threshold was given, ``frac_above`` (fraction of words with activation > ``threshold``).
    ``std`` is the population standard deviation."""

    layer: np.ndarray
    neuron: np.ndarray
    count: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    min: np.ndarray
    max: np.ndarray
    threshold: float | None = None
    frac_above: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.layer)

    @property
    def columns(self) -> list[str]:
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

    def to_csv(self, path: str | os.PathLike | None = None) -> str | None:
        """CSV with a header row; writes ``path`` when given, else returns the text."""
        out = io.StringIO() if path is None else open(path, "w", newline="", encoding="utf-8")
        try:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(self.columns)
            for row in self:
                writer.writerow([repr(v) if isinstance(v, float) else v for v in row.values()])
            return out.getvalue() if path is None else None
        finally:
            if path is not None:
                out.close()


def count_above(part: StoreLike, layer: int, threshold: float,
                chunk_mb: float = 64) -> np.ndarray:
    """int64 ``[width]``: rows of ``part`` where each neuron of ``layer`` is > threshold."""
    total = np.zeros(int(part.hidden_size), dtype=np.int64)
    # float32 rows: v > threshold  <=>  v > t32, the largest float32 <= threshold
    t32 = np.float32(threshold)
    if float(t32) > threshold:
        t32 = np.nextafter(t32, np.float32(-np.inf))
    for _, chunk in part.iter_rows(layer, chunk_mb=chunk_mb):
        total += np.count_nonzero(chunk > t32, axis=0)
        del chunk
    return total


def count_above_task(path: str, layer: int, threshold: float, chunk_mb: float) -> np.ndarray:
    """:func:`count_above` on one store file opened here (pool / Dask task)."""
    from neuroheat.store import Store

    with Store(path) as part:
        return count_above(part, layer, threshold, chunk_mb)


def neuron_stats(
    store: SourceArg,
    layers: int | Sequence[int] | None = None,
    threshold: float | None = None,
    *,
    chunk_mb: float = 64,
    workers: int | None = 1,
    scheduler: object = None,
) -> NeuronStats:
    """Statistics of every neuron of ``layers`` (model layer numbers; default all stored).

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
    with open_source(store) as src:
        layers = src.check_layers(layers)
        width = src.hidden_size
        merged = [src.stats(layer) for layer in layers]

        def cat(field: str) -> np.ndarray:
            return np.concatenate([getattr(s, field) for s in merged])

        table = NeuronStats(
            layer=np.repeat(np.asarray(layers, dtype=np.int64), width),
            neuron=np.tile(np.arange(width, dtype=np.int64), len(layers)),
            count=cat("count"), mean=cat("mean"), std=cat("std"), min=cat("min"),
            max=cat("max"), threshold=threshold,
        )
        if threshold is not None:
            pool = use_pool(src, workers, scheduler)
            if pool:
                calls = [(str(p.resolve()), layer, threshold, chunk_mb)
                         for layer in layers for p in src.paths]
                results = ordered_map(count_above_task, calls, workers=workers,
                                      scheduler=scheduler)
            else:
                results = (count_above(p, layer, threshold, chunk_mb)
                           for layer in layers for p in src.parts)
            above = np.zeros(len(layers) * width, dtype=np.int64)
            for li in range(len(layers)):
                for _ in src.parts:
                    above[li * width:(li + 1) * width] += next(results)
            table.frac_above = above / np.maximum(table.count, 1)
        return table
