"""Correlation clustering of redundant neurons (Dalvi et al. 2020), streamed.

One streaming pass accumulates float64 Σx and Σxxᵀ over the columns of ``layers`` (shifted
sums, see :mod:`neuroheat.probing.gaussian_probe`); from them the Pearson correlation

    r_ij = C_ij / sqrt(C_ii · C_jj),   C = Σ(x − μ)(x − μ)ᵀ,

(0 against a constant column) and the distance d_ij = 1 − |r_ij|. Average-linkage
hierarchical clustering (``scipy.cluster.hierarchy.linkage(method="average")``) is cut at
distance ``threshold`` (``fcluster(criterion="distance")``): neurons joined below it are
redundant. Clusters are numbered by their lowest column; each cluster's representative is
the member with the highest mean |r| to the other members (ties to the lower column; a
singleton represents itself).

Reference: Dalvi, Sajjad, Durrani, Belinkov, "Analyzing Redundancy in Pretrained
Transformer Models", EMNLP 2020.

Example:
    >>> with open_store("acts.h5") as store:                       # doctest: +SKIP
    ...     result = redundancy_clusters(store, layers="3", threshold=0.3)
    >>> len(result), result.representative_pairs()[:3]             # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from neuroheat.errors import InputError
from neuroheat.probing.gaussian_probe import check_chunk_mb, moments_of_ids
from neuroheat.store.base import DEFAULT_CHUNK_MB

__all__ = ["RedundancyClusters", "cluster_correlations", "correlations",
           "redundancy_clusters"]

LayersArg = int | Sequence[int] | str | None


@dataclass(frozen=True)
class RedundancyClusters:
    """``clusters[i]``: sorted column indices of cluster i (numbered by lowest column);
    ``representatives[i]``: its representative column; ``labels[col]``: col's cluster;
    ``neurons[col]``: ``(layer, index)``; ``correlations``: the |r| matrix."""

    clusters: list[np.ndarray]
    representatives: np.ndarray
    labels: np.ndarray
    neurons: np.ndarray
    correlations: np.ndarray
    threshold: float

    def __len__(self) -> int:
        return len(self.clusters)

    def representative_pairs(self) -> list[list[int]]:
        """``[layer, index]`` of each cluster's representative, in cluster order."""
        return [[int(a), int(b)] for a, b in self.neurons[self.representatives]]

    def cluster_pairs(self) -> list[list[list[int]]]:
        """``[layer, index]`` of every member of every cluster."""
        return [[[int(a), int(b)] for a, b in self.neurons[c]] for c in self.clusters]


def correlations(scatter: np.ndarray) -> np.ndarray:
    """float64 |Pearson r| from a ``[columns, columns]`` centred scatter (or covariance)
    matrix; 0 against constant columns, 1 on the diagonal."""
    c = np.asarray(scatter, dtype=np.float64)
    var = np.clip(np.diag(c), 0.0, None)
    const = var <= 1e-12 * max(float(var.max(initial=0.0)), 1e-300)
    sd = np.sqrt(np.where(const, 1.0, var))
    r = np.abs(c / sd[:, None] / sd[None, :])
    r[const, :] = 0.0
    r[:, const] = 0.0
    r = np.clip(r, 0.0, 1.0)
    np.fill_diagonal(r, 1.0)
    return r


def cluster_correlations(r: np.ndarray, threshold: float = 0.3
                         ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """``(clusters, representatives, labels)`` of average-linkage clustering of
    1 − |r| cut at ``threshold`` (see the module docstring)."""
    t = float(threshold)
    if not 0.0 <= t <= 1.0:
        raise InputError(f"threshold must be a distance 1 - |r| between 0 and 1, got "
                         f"{threshold}")
    r = np.asarray(r, dtype=np.float64)
    d = len(r)
    if d == 0:
        raise InputError("no columns to cluster")
    if d == 1:
        raw = np.ones(1, dtype=np.int64)
    else:
        dist = 1.0 - (r + r.T) / 2.0
        np.fill_diagonal(dist, 0.0)
        z = linkage(squareform(np.clip(dist, 0.0, 1.0), checks=False), method="average")
        raw = fcluster(z, t=t, criterion="distance")
    first: dict[int, int] = {}
    for col, lab in enumerate(raw.tolist()):
        first.setdefault(lab, col)
    renumber = {lab: i for i, lab in enumerate(sorted(first, key=first.__getitem__))}
    labels = np.array([renumber[lab] for lab in raw.tolist()], dtype=np.int64)
    clusters = [np.flatnonzero(labels == i) for i in range(len(renumber))]
    reps = []
    for members in clusters:
        if len(members) == 1:
            reps.append(int(members[0]))
            continue
        sub = r[np.ix_(members, members)]
        mean_r = (sub.sum(axis=1) - 1.0) / (len(members) - 1)
        reps.append(int(members[int(np.argmax(mean_r))]))  # first max: the lower column
    return clusters, np.asarray(reps, dtype=np.int64), labels


def redundancy_clusters(store: Any, layers: LayersArg = None, *, threshold: float = 0.3,
                        chunk_mb: float = DEFAULT_CHUNK_MB,
                        rows: np.ndarray | None = None) -> RedundancyClusters:
    """Cluster the neurons of ``layers`` by correlation (see the module docstring). ``rows``
    (bool per store row) restricts the words used; default every word."""
    check_chunk_mb(chunk_mb)
    if rows is None:
        ids = np.zeros(int(store.num_words), dtype=np.int64)
    else:
        keep = np.asarray(rows)
        if keep.dtype != bool or keep.shape != (int(store.num_words),):
            raise InputError(f"rows must be a bool mask of the store's {store.num_words} "
                             "rows")
        ids = np.where(keep, 0, -1).astype(np.int64)
    m = moments_of_ids(store, ids, 1, layers, chunk_mb=chunk_mb)
    n, scatter = m.total()
    if n < 2:
        raise InputError(f"correlations need at least 2 words, got {n}")
    r = correlations(scatter)
    clusters, reps, labels = cluster_correlations(r, threshold)
    return RedundancyClusters(clusters=clusters, representatives=reps, labels=labels,
                              neurons=m.neurons, correlations=r, threshold=float(threshold))
