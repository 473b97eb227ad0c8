"""Neuron rankings from probe weights (Dalvi et al. 2019), as NeuroX defines them.

Every function takes a ``[classes, neurons]`` weight array, or any object with a ``.weights``
attribute (a probe), and uses absolute weights |W|. Results are deterministic: where NeuroX's
order of tied weights is left to ``np.argsort`` (not specified), ties here go to the lower
neuron index. Per-class results are dicts keyed by class name (``classes=``, else the
object's ``.classes``, else the row index), with each class's neurons in selection order;
unions are sorted int arrays.

Reference: Dalvi, Durrani, Sajjad, Belinkov, Bau, Glass, "What is one grain of sand in the
desert? Analyzing individual neurons in deep NLP models", AAAI 2019.

Example:
    >>> union, per_class = top_neurons([[5, 1, 1], [1, 10, 1]], 0.5)
    >>> union.tolist(), {c: v.tolist() for c, v in per_class.items()}
    ([0, 1], {0: [0], 1: [1]})
    >>> neuron_ordering([[4, 1, 5], [1, 1, 10]]).tolist()
    [2, 0, 1]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from neuroheat.errors import InputError

__all__ = ["bottom_neurons", "entry_mass", "neuron_ordering", "ordering_cutoffs",
           "order_by_score", "top_neurons", "top_neurons_hard_threshold"]

Selection = tuple[np.ndarray, dict[Any, np.ndarray]]


def _abs_weights(weights: Any) -> np.ndarray:
    w = getattr(weights, "weights", weights)
    w = np.abs(np.asarray(w, dtype=np.float64))
    if w.ndim == 1:
        w = w[None, :]
    if w.ndim != 2 or w.shape[1] == 0:
        raise InputError(f"weights must be a [classes, neurons] array, got shape {w.shape}")
    if not np.isfinite(w).all():
        raise InputError("weights hold NaN or infinite values; the probe did not converge")
    return w


def _class_names(weights: Any, n: int, classes: Sequence[Any] | None) -> list[Any]:
    names = classes if classes is not None else getattr(weights, "classes", None)
    if names is None:
        return list(range(n))
    names = list(names)
    if len(names) != n:
        raise InputError(f"{len(names)} class names for {n} weight rows")
    return names


def _check_percentage(percentage: float) -> float:
    p = float(percentage)
    if not 0.0 <= p <= 1.0:
        raise InputError(f"percentage must be between 0 and 1 (a fraction of the weight "
                         f"mass), got {percentage}")
    return p


def _mass_prefix(row: np.ndarray, order: np.ndarray, percentage: float) -> np.ndarray:
    """The shortest prefix of ``order`` whose cumulative |w| reaches percentage · Σ|w|,
    including the neuron that crosses the line (everything if none reaches it)."""
    cum = np.cumsum(row[order])
    reached = np.flatnonzero(cum >= row.sum() * percentage)
    stop = len(order) if len(reached) == 0 else int(reached[0]) + 1
    return order[:stop]


def _union(per_class: dict[Any, np.ndarray]) -> np.ndarray:
    parts = list(per_class.values())
    return np.unique(np.concatenate(parts)).astype(np.int64) if parts else np.zeros(0, np.int64)


def _descending(row: np.ndarray) -> np.ndarray:
    return np.argsort(-row, kind="stable")


def top_neurons(weights: Any, percentage: float, *,
                classes: Sequence[Any] | None = None) -> Selection:
    """``(union, per_class)``: the neurons holding ``percentage`` of each class's weight mass.

    For class c, sort |W_c| descending; keep the shortest prefix n_1..n_k with
    Σ_{i≤k} |W_c,n_i| ≥ percentage · Σ_j |W_c,j| (the neuron that crosses the line is kept;
    at percentage 0 that is the single largest). The union over classes is sorted. Same as
    NeuroX's ``get_top_neurons`` (``neurox/interpretation/linear_probe.py``), Dalvi et al. 2019.
    """
    w = _abs_weights(weights)
    p = _check_percentage(percentage)
    names = _class_names(weights, len(w), classes)
    per = {name: _mass_prefix(row, _descending(row), p).astype(np.int64)
           for name, row in zip(names, w, strict=True)}
    return _union(per), per


def bottom_neurons(weights: Any, percentage: float, *,
                   classes: Sequence[Any] | None = None) -> Selection:
    """``(union, per_class)``: like :func:`top_neurons` with |W_c| sorted ascending — the
    smallest-weight neurons up to and including the one whose cumulative mass reaches
    percentage · Σ|W_c|. Same as NeuroX's ``get_bottom_neurons``."""
    w = _abs_weights(weights)
    p = _check_percentage(percentage)
    names = _class_names(weights, len(w), classes)
    per = {name: _mass_prefix(row, np.argsort(row, kind="stable"), p).astype(np.int64)
           for name, row in zip(names, w, strict=True)}
    return _union(per), per


def top_neurons_hard_threshold(weights: Any, fraction: float, *,
                               classes: Sequence[Any] | None = None) -> Selection:
    """``(union, per_class)``: per class, the neurons with |W_c,j| > max_j |W_c,j| / fraction
    (strictly greater; ``fraction`` 2 keeps those above half the largest weight). Same as
    NeuroX's ``get_top_neurons_hard_threshold``; per-class neurons are in index order."""
    w = _abs_weights(weights)
    if not float(fraction) > 0:
        raise InputError(f"fraction must be > 0 (the threshold is max|W| / fraction), "
                         f"got {fraction}")
    names = _class_names(weights, len(w), classes)
    per = {name: np.flatnonzero(row > row.max() / float(fraction)).astype(np.int64)
           for name, row in zip(names, w, strict=True)}
    return _union(per), per


def entry_mass(weights: Any) -> np.ndarray:
    """float64 ``[neurons]``: the smallest percentage at which :func:`top_neurons` selects
    each neuron.

    In class c's descending order a neuron at position k is selected once percentage >
    (mass before it) / Σ|W_c| (position 0 always); its entry mass is the minimum over
    classes. Neurons no class ever selects (zero weight behind a full prefix) get ``inf``.
    """
    w = _abs_weights(weights)
    out = np.full(w.shape[1], np.inf)
    for row in w:
        order = _descending(row)
        total = row.sum()
        before = np.concatenate([[0.0], np.cumsum(row[order])[:-1]])
        if total > 0:
            frac = before / total
            frac[(frac >= 1.0) & (np.arange(len(order)) > 0)] = np.inf
        else:
            frac = np.full(len(order), np.inf)
        frac[0] = 0.0
        np.minimum.at(out, order, frac)
    return out


def neuron_ordering(weights: Any) -> np.ndarray:
    """int64 ``[neurons]``: every neuron, most important first, by :func:`entry_mass`
    (ties by index; neurons never selected come last, by index).

    NeuroX's ``get_neuron_ordering`` takes the union of :func:`top_neurons` at percentages
    0, 1/s, ..., 1 (``search_stride`` s = 100) and appends each step's new neurons in set
    order. A neuron enters at the first step above its entry mass, so each of NeuroX's steps
    is a contiguous block of this ordering (see :func:`ordering_cutoffs`); within a block the
    order here is by exact entry mass instead of arbitrary. NeuroX omits neurons that never
    enter; here they come last.
    """
    mass = entry_mass(weights)
    return np.lexsort((np.arange(len(mass)), mass)).astype(np.int64)


def ordering_cutoffs(weights: Any, search_stride: int = 100) -> list[int]:
    """NeuroX's ``cutoffs`` of :func:`neuron_ordering`: for each step p = 0..search_stride,
    how many neurons the ordering holds once the top neurons at p / search_stride are in."""
    if int(search_stride) < 1:
        raise InputError(f"search_stride must be >= 1, got {search_stride}")
    w = _abs_weights(weights)
    return [len(top_neurons(w, p / search_stride)[0]) for p in range(int(search_stride) + 1)]


def order_by_score(scores: Any) -> np.ndarray:
    """int64 ranking of a score vector: highest score first, ties by index (NaN last)."""
    s = np.asarray(scores, dtype=np.float64)
    key = np.where(np.isnan(s), np.inf, -s)
    return np.lexsort((np.arange(len(s)), key)).astype(np.int64)
