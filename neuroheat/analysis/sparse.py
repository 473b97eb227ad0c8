"""Analysis kernels over sparse (SAE latent) stores: cost proportional to the non-zeros.

A latent is 0 on most rows, so the per-type sums of NeuroX's top-word score split into a
closed form for the zeros plus a pass over the non-zeros only::

    S[t, n] = sum over occurrences of t of |a - mu_n|
            = count_t * |mu_n|  +  sum over non-zeros (row of type t) of (|a - mu_n| - |mu_n|)

(the accumulator and the ranking stay ``[types x block]``, as for dense stores; the rows x
width pass becomes a pass over the non-zeros). A latent's column is filled from its non-zeros
(:func:`columns`) for top contexts, and the rows above a threshold are counted among the
non-zeros plus, when the threshold is below 0, the inactive rows. :func:`latent_density` and
:func:`dead_latents` report how often each latent fires (dead: never on this corpus).

Example:
    >>> dead_latents("latents.h5")              # doctest: +SKIP
    {7: array([  12,  873, 9001])}
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroheat.analysis.options import DEFAULT_CHUNK_MB
from neuroheat.analysis.results import TableResult
from neuroheat.analysis.source import SourceArg, open_source
from neuroheat.errors import InputError
from neuroheat.store import StoreBase

__all__ = ["LatentDensity", "columns", "dead_latents", "latent_density",
           "sparse_count_above", "sparse_dev_sums"]


def sparse_dev_sums(part: StoreBase, layer: int, c0: int, c1: int, mu: np.ndarray,
                    chunk_mb: float = DEFAULT_CHUNK_MB) -> np.ndarray:
    """float64 ``[num_local_types, c1 - c0]`` sums of |a - mu| per word type, from the
    non-zeros of latents ``c0:c1`` (same result as the dense ``dev_sums``)."""
    ids = np.asarray(part.word_ids, dtype=np.int64)
    n_types, width = len(part.vocab), c1 - c0
    mu = np.asarray(mu, dtype=np.float64)
    amu = np.abs(mu)
    counts = np.bincount(ids, minlength=n_types).astype(np.float64)
    S = counts[:, None] * amu[None, :]
    flat = S.reshape(-1)
    for rows, lat, val in part.iter_nonzeros(layer, chunk_mb=chunk_mb):
        sel = (lat >= c0) & (lat < c1)
        if not sel.any():
            continue
        j = lat[sel].astype(np.int64) - c0
        delta = np.abs(val[sel].astype(np.float64) - mu[j]) - amu[j]
        key = ids[rows[sel]] * width + j
        if len(key) * 8 > flat.size:  # dense enough: one bincount over the accumulator
            flat += np.bincount(key, weights=delta, minlength=flat.size)
        else:
            np.add.at(flat, key, delta)
    return S


def columns(part: StoreBase, layer: int, neuron: int, chunk_mb: float = DEFAULT_CHUNK_MB
            ) -> Iterator[tuple[int, np.ndarray]]:
    """``(start_row, values)`` of one neuron over ``part``: dense stores in row chunks, a
    sparse store as one column filled from its non-zeros."""
    if getattr(part, "sparse", False):
        yield 0, part.neuron(layer, neuron)
        return
    for start, chunk in part.iter_rows(layer, chunk_mb=chunk_mb):
        yield start, chunk[:, neuron]
        del chunk


def sparse_count_above(part: StoreBase, layer: int, threshold: float,
                       chunk_mb: float = DEFAULT_CHUNK_MB) -> np.ndarray:
    """int64 ``[width]``: rows of a sparse ``part`` where each latent is > ``threshold``."""
    total = np.zeros(int(part.hidden_size), dtype=np.int64)
    t32 = np.float32(threshold)
    if float(t32) > threshold:
        t32 = np.nextafter(t32, np.float32(-np.inf))
    for _, lat, val in part.iter_nonzeros(layer, chunk_mb=chunk_mb):
        total += np.bincount(lat[val > t32], minlength=len(total))
    if threshold < 0:  # the inactive rows are 0 > threshold
        total += part.num_words - np.asarray(part.active(layer), dtype=np.int64)
    return total


@dataclass
class LatentDensity(TableResult):
    """One row per latent: ``layer``, ``latent``, ``active`` (rows where it is non-zero) and
    ``density`` (active / rows); ``dead`` latents never fire on this corpus."""

    layer: np.ndarray
    latent: np.ndarray
    active: np.ndarray
    density: np.ndarray

    kind = "neuroheat.LatentDensity"

    def __len__(self) -> int:
        return len(self.layer)

    @property
    def dead(self) -> np.ndarray:
        """Boolean mask of the latents that are never active."""
        return self.active == 0

    def to_records(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per latent."""
        return [{"layer": int(a), "latent": int(b), "active": int(c), "density": float(d)}
                for a, b, c, d in zip(self.layer, self.latent, self.active, self.density,
                                      strict=True)]

    def csv_header(self) -> list[str]:
        """``layer, latent, active, density``."""
        return ["layer", "latent", "active", "density"]

    def csv_rows(self) -> Iterator[list[Any]]:
        """One row per latent."""
        for r in self.to_records():
            yield list(r.values())

    def settings(self) -> dict[str, Any]:
        """Nothing beyond the columns."""
        return {}

    @classmethod
    def from_records(cls, records: list[dict[str, Any]], settings: dict[str, Any]
                     ) -> LatentDensity:
        """A table from :meth:`to_records`."""
        def col(name: str, dtype: type) -> np.ndarray:
            return np.array([r[name] for r in records], dtype=dtype)

        return cls(col("layer", np.int64), col("latent", np.int64), col("active", np.int64),
                   col("density", np.float64))

    @classmethod
    def from_csv_rows(cls, rows: list[dict[str, str]]) -> LatentDensity:
        """A table from the rows of its CSV."""
        return cls.from_records([{k: float(v) for k, v in r.items()} for r in rows], {})


def latent_density(store: SourceArg, layers: int | Sequence[int] | str | None = None
                   ) -> LatentDensity:
    """How often each latent of a sparse store fires (from the stored counts; no pass).

    Example:
        >>> d = latent_density("latents.h5"); d.dead.sum()      # doctest: +SKIP
        41
    """
    with open_source(store) as src:
        if not all(getattr(p, "sparse", False) for p in src.parts):
            raise InputError("latent_density needs a sparse (SAE latent) store; this store is "
                             "dense: use neuron_stats(..., threshold=0.0)")
        layers = src.check_layers(layers)
        width, n = src.hidden_size, max(1, src.num_words)
        active = np.concatenate([sum(np.asarray(p.active(layer), dtype=np.int64)
                                     for p in src.parts) for layer in layers])
        return LatentDensity(np.repeat(np.asarray(layers, dtype=np.int64), width),
                             np.tile(np.arange(width, dtype=np.int64), len(layers)),
                             active, active / n)


def dead_latents(store: SourceArg, layers: int | Sequence[int] | str | None = None
                 ) -> dict[int, np.ndarray]:
    """``{layer: latents never active on this corpus}`` of a sparse store.

    Example:
        >>> dead_latents("latents.h5", layers=7)[7][:3]       # doctest: +SKIP
        array([ 12, 873, 9001])
    """
    table = latent_density(store, layers)
    return {int(layer): table.latent[(table.layer == layer) & table.dead]
            for layer in dict.fromkeys(table.layer.tolist())}
