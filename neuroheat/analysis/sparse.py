"""Analysis kernels over sparse (SAE latent) stores: cost proportional to the non-zeros.

A latent is 0 on most rows, so the per-type sums of NeuroX's top-word score split into a
closed form for the zeros plus a pass over the non-zeros only::

    S[t, n] = sum over occurrences of t of |a - mu_n|
            = count_t * |mu_n|  +  sum over non-zeros (row of type t) of (|a - mu_n| - |mu_n|)

(the accumulator and the ranking stay ``[types x block]``, as for dense stores; the rows x
width pass becomes a pass over the non-zeros). Column reads and threshold counts of a sparse
part are methods of the part (:class:`~neuroheat.store.sparse_reader.SparseStore`).
:func:`latent_density` and :func:`dead_latents` report how often each latent fires (dead:
never on this corpus).

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
from neuroheat.store import StoreBase

__all__ = ["LatentDensity", "dead_latents", "latent_density", "sparse_dev_sums"]


def sparse_dev_sums(part: StoreBase, layer: int, c0: int, c1: int, mu: np.ndarray,
                    chunk_mb: float = DEFAULT_CHUNK_MB, method: str = "inplace") -> np.ndarray:
    """float64 ``[num_local_types, c1 - c0]`` sums of |a - mu| per word type, from the
    non-zeros of latents ``c0:c1`` of a sparse part: the sparse side of
    :func:`~neuroheat.analysis.scores.dev_sums`, same result as the dense one (``method``,
    the dense segment-sum kernel, does not apply).

    Example:
        >>> S = sparse_dev_sums(part, 7, 0, 512, mu)            # doctest: +SKIP
    """
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
    with open_source(store) as src:  # a dense store's parts refuse active(): InputError
        layers = src.check_layers(layers)
        width, n = src.width, max(1, src.num_words)
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
