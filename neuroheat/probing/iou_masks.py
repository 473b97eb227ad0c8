"""IoU of thresholded activation masks with class masks (Mu & Andreas 2020), streamed.

Per neuron j a threshold t_j; its mask is M_j = {words w : a_j(w) > t_j}. For every class c
(one-vs-rest, any number of classes) with word set C_c,

    IoU(j, c) = |M_j ∧ C_c| / |M_j ∨ C_c| = |M_j ∧ C_c| / (|M_j| + |C_c| − |M_j ∧ C_c|)

(0 when both are empty). A neuron's score is max_c IoU(j, c) and its best class the argmax
(ties to the lower class id). The ranking is by score, highest first, ties by column index.

Thresholds: by default the top ``quantile`` of each neuron's activations (over the labelled
words), t_j = the ``quantile`` point of a streamed histogram of ``bins`` equal bins between the
neuron's stored min and max (``store.stats()``), linearly interpolated inside its bin — exact
up to one bin width, (max − min) / bins. Pass ``threshold=`` (a scalar or one value per
column) to skip that pass. Masks and counts are then exact (a second streaming pass).

Unlike NeuroX's version this is multi-class, leaves its input alone, and computes IoU (not
average precision). Rows whose label id is negative are left out.

Reference: Mu, Andreas, "Compositional Explanations of Neurons", NeurIPS 2020.

Example:
    >>> with open_store("acts.h5") as store:                       # doctest: +SKIP
    ...     labels = read_labels("train.conllu", store=store)
    ...     ranking = iou(store, labels, layers="3", quantile=0.99)
    >>> ranking.pairs(3), ranking.best_class_names(3)              # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.probing.data import check_aligned
from neuroheat.probing.gaussian_probe import check_chunk_mb, iter_blocks
from neuroheat.probing.labels import Labels
from neuroheat.probing.rankings import order_by_score
from neuroheat.probing.result import Ranking, column_neurons
from neuroheat.store.base import DEFAULT_CHUNK_MB

__all__ = ["IoURanking", "iou", "iou_scores", "quantile_thresholds"]

LayersArg = int | Sequence[int] | str | None
DEFAULT_BINS = 4096


@dataclass(frozen=True)
class IoURanking(Ranking):
    """A :class:`Ranking` by max-over-classes IoU. ``ious[col, c]``: IoU of column col's
    mask with class c; ``best_class[col]``: the argmax class id (into ``classes``);
    ``thresholds[col]``: t_col."""

    classes: list[str] = field(default_factory=list)
    best_class: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    thresholds: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ious: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    def best_class_names(self, k: int | None = None) -> list[str]:
        """The best class of the top ``k`` neurons (all when None), in ranking order."""
        order = self.order if k is None else self.order[:k]
        return [self.classes[int(c)] for c in self.best_class[order]]


def _bounds(store: Any, layers: list[int]) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = [], []
    for layer in layers:
        s = store.stats(layer)
        lo.append(np.asarray(s["min"], dtype=np.float64))
        hi.append(np.asarray(s["max"], dtype=np.float64))
    lo_a, hi_a = np.concatenate(lo), np.concatenate(hi)
    if not (np.isfinite(lo_a).all() and np.isfinite(hi_a).all()):
        raise InputError("the store's stored min/max are not finite (an empty store?); "
                         "pass threshold= instead")
    return lo_a, hi_a


def quantile_thresholds(store: Any, valid: np.ndarray, layers: list[int], quantile: float, *,
                        bins: int = DEFAULT_BINS, chunk_mb: float = DEFAULT_CHUNK_MB
                        ) -> np.ndarray:
    """float64 ``[columns]``: the ``quantile`` point of each column over the rows where
    ``valid`` is True, from one streamed histogram pass (exact to one bin width)."""
    q = float(quantile)
    if not 0.0 < q < 1.0:
        raise InputError(f"quantile must be between 0 and 1 (exclusive), got {quantile}")
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
        raise InputError(f"bins must be a positive int, got {bins!r}")
    lo, hi = _bounds(store, layers)
    span = hi - lo
    scale = np.where(span > 0, bins / np.where(span > 0, span, 1.0), 0.0)
    d = len(lo)
    hist = np.zeros(d * bins, dtype=np.int64)
    base = np.arange(d, dtype=np.int64) * bins
    for start, x in iter_blocks(store, layers, chunk_mb):
        x = x[valid[start:start + len(x)]]
        if not len(x):
            continue
        idx = np.clip(np.floor((x - lo) * scale), 0, bins - 1).astype(np.int64)
        hist += np.bincount((idx + base).ravel(), minlength=d * bins)
    hist = hist.reshape(d, bins)
    n = int(valid.sum())
    if n == 0:
        raise InputError("no labelled rows to compute thresholds from")
    target = q * n
    cum = np.cumsum(hist, axis=1)
    b = np.argmax(cum >= target, axis=1)
    rows = np.arange(d)
    inside = hist[rows, b].astype(np.float64)
    before = cum[rows, b] - inside
    frac = np.clip((target - before) / np.maximum(inside, 1.0), 0.0, 1.0)
    width = span / bins
    return np.where(span > 0, lo + (b + frac) * width, lo)


def iou_scores(intersections: np.ndarray, mask_counts: np.ndarray, class_counts: np.ndarray
               ) -> np.ndarray:
    """float64 ``[columns, classes]``: |M ∧ C| / (|M| + |C| − |M ∧ C|), 0 where empty."""
    inter = np.asarray(intersections, dtype=np.float64)
    union = (np.asarray(mask_counts, dtype=np.float64)[:, None]
             + np.asarray(class_counts, dtype=np.float64)[None, :] - inter)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def iou(store: Any, labels: Labels, layers: LayersArg = None, *, quantile: float = 0.995,
        threshold: float | Sequence[float] | np.ndarray | None = None,
        bins: int = DEFAULT_BINS, chunk_mb: float = DEFAULT_CHUNK_MB) -> IoURanking:
    """Rank the neurons of ``layers`` by max over classes of the IoU of their thresholded
    mask with the class mask (see the module docstring); ``threshold`` (scalar or per
    column) overrides ``quantile``. Most important first, ties by column index."""
    check_aligned(store, labels)
    check_chunk_mb(chunk_mb)
    layers = store.check_layers(layers)
    width = int(store.width)
    d = len(layers) * width
    ids = np.asarray(labels.ids, dtype=np.int64)
    valid = ids >= 0
    n_classes = len(labels.classes)
    class_counts = np.bincount(ids[valid], minlength=n_classes).astype(np.int64)
    if int((class_counts > 0).sum()) < 1:
        raise InputError("IoU ranking needs at least one labelled word")
    if threshold is None:
        t = quantile_thresholds(store, valid, layers, quantile, bins=bins, chunk_mb=chunk_mb)
    else:
        t = np.broadcast_to(np.asarray(threshold, dtype=np.float64), (d,)).copy() \
            if np.ndim(threshold) == 0 or np.size(threshold) == d else None
        if t is None:
            raise InputError(f"threshold must be a number or one value per column ({d}), "
                             f"got {np.size(threshold)} values")
        if not np.isfinite(t).all():
            raise InputError("threshold holds NaN or infinite values")
    inter = np.zeros((d, n_classes), dtype=np.int64)
    mask_counts = np.zeros(d, dtype=np.int64)
    for start, x in iter_blocks(store, layers, chunk_mb):
        block_ids = ids[start:start + len(x)]
        keep = block_ids >= 0
        mask = x[keep] > t
        hot = np.zeros((int(keep.sum()), n_classes))
        hot[np.arange(len(hot)), block_ids[keep]] = 1.0
        inter += np.rint(mask.T.astype(np.float64) @ hot).astype(np.int64)
        mask_counts += mask.sum(axis=0)
    ious = iou_scores(inter, mask_counts, class_counts)
    ious[:, class_counts == 0] = 0.0
    scores = ious.max(axis=1) if n_classes else np.zeros(d)
    best = np.argmax(ious, axis=1).astype(np.int64)
    return IoURanking(order=order_by_score(scores), scores=scores,
                      neurons=column_neurons(layers, width), method="iou",
                      classes=list(labels.classes), best_class=best, thresholds=t, ious=ious)
