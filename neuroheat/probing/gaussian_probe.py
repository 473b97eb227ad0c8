"""Gaussian probe with greedy mutual-information selection (Torroba Hennigen et al. 2020).

One streaming pass over the store (:func:`class_moments`) accumulates, per class c, the
float64 sufficient statistics n_c, Σ(x − K) and Σ(x − K)(x − K)ᵀ over the requested columns
(K: a fixed shift, the first block's column means, for numerical accuracy). They are plain
sums, so partial statistics of any chunks or shards merge by addition after re-shifting
(:meth:`ColumnMoments.merge`, Chan et al.'s parallel combination).

The probe is generative: p(x | c) = N(μ_c, Σ_c) with a **per-class** covariance, shrunk
towards the total covariance Σ (a conjugate-prior style estimate with ``prior``
pseudo-observations, plus a ridge of 1e-6 · diag Σ so duplicated neurons stay
invertible):

    Σ_c = (S_c + prior · Σ) / (n_c + prior) + 1e-6 · diag(Σ)

where S_c is class c's scatter matrix. The mutual information of the label π and the
dimensions D is estimated from the Gaussian log-likelihoods (the per-class model against a
single Gaussian fitted to all words, per word, in nats):

    Î(π; D) = ½ [ log det Σ_DD − Σ_c p_c · log det (Σ_c)_DD ],   p_c = n_c / N.

Greedy forward selection adds, at each step, the dimension with the largest gain
Î(π; D ∪ {j}) − Î(π; D); by the Schur complement the gain is
½ [log r_jj − Σ_c p_c log r^c_jj] with r the residual variance of j given D, updated
incrementally (a pivoted Cholesky: O(classes · columns · step) per step, no refits).
``k`` limits the greedy steps; the remaining columns follow, ordered by their
single-dimension score Î(π; {j}). Constant columns score 0 and come last. Ties go to the
lower column index. :func:`gaussian_mi` computes Î directly with ``numpy.linalg.slogdet``
(used to check the incremental values).

Reference: Torroba Hennigen, Williams, Cotterell, "Intrinsic Probing through Dimension
Selection", EMNLP 2020.

Example:
    >>> with open_store("acts.h5") as store:                       # doctest: +SKIP
    ...     labels = read_labels("train.conllu", store=store)
    ...     ranking = gaussian(store, labels, layers="3", k=20)
    >>> ranking.pairs(5), ranking.mutual_information[:5]           # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.probing.data import check_aligned
from neuroheat.probing.labels import Labels
from neuroheat.probing.rankings import order_by_score
from neuroheat.probing.result import Ranking, column_neurons
from neuroheat.store.base import DEFAULT_CHUNK_MB

__all__ = ["ColumnMoments", "GaussianRanking", "check_chunk_mb", "class_moments", "gaussian",
           "gaussian_mi", "gaussian_selection", "iter_blocks", "moments_of_ids"]

LayersArg = int | Sequence[int] | str | None
RIDGE = 1e-6
_DEGENERATE = 1e-12


def check_chunk_mb(chunk_mb: float) -> float:
    """``chunk_mb`` as a float; InputError unless it is > 0."""
    if not float(chunk_mb) > 0:
        raise InputError(f"chunk_mb must be > 0, got {chunk_mb}")
    return float(chunk_mb)


def iter_blocks(store: Any, layers: list[int], chunk_mb: float
                ) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start_row, float64 [rows, len(layers) · width])``: the checked ``layers``
    concatenated, about ``chunk_mb`` MiB of float64 per block."""
    width = int(store.width)
    cols = len(layers) * width
    step = max(1, int(check_chunk_mb(chunk_mb) * 2**20) // (8 * max(cols, 1)))
    n = int(store.num_words)
    for a in range(0, n, step):
        b = min(n, a + step)
        x = np.empty((b - a, cols))
        for pos, layer in enumerate(layers):
            x[:, pos * width:(pos + 1) * width] = store.rows(layer, a, b)
        yield a, x


@dataclass(frozen=True)
class ColumnMoments:
    """Per-class ``counts[c]``, shifted sums ``s1[c] = Σ(x − shift)`` and shifted outer
    products ``s2[c] = Σ(x − shift)(x − shift)ᵀ`` (float64) over columns ``neurons``."""

    counts: np.ndarray
    shift: np.ndarray
    s1: np.ndarray
    s2: np.ndarray
    neurons: np.ndarray
    classes: list[str]

    @property
    def sums(self) -> np.ndarray:
        """float64 ``[classes, columns]``: Σx per class."""
        return self.s1 + self.counts[:, None] * self.shift[None, :]

    @property
    def outer(self) -> np.ndarray:
        """float64 ``[classes, columns, columns]``: Σxxᵀ per class."""
        k = self.shift
        return (self.s2 + self.s1[:, :, None] * k[None, None, :]
                + k[None, :, None] * self.s1[:, None, :]
                + self.counts[:, None, None] * np.outer(k, k)[None])

    @property
    def means(self) -> np.ndarray:
        """float64 ``[classes, columns]`` (NaN for a class with no words)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.sums / self.counts[:, None]

    def scatter(self) -> np.ndarray:
        """float64 ``[classes, columns, columns]``: Σ(x − μ_c)(x − μ_c)ᵀ per class."""
        n = np.maximum(self.counts, 1)[:, None, None]
        return self.s2 - self.s1[:, :, None] * self.s1[:, None, :] / n

    def total(self) -> tuple[int, np.ndarray]:
        """``(N, Σ(x − μ)(x − μ)ᵀ)`` over all classes together."""
        n = int(self.counts.sum())
        s1 = self.s1.sum(axis=0)
        return n, self.s2.sum(axis=0) - np.outer(s1, s1) / max(n, 1)

    def merge(self, other: ColumnMoments) -> ColumnMoments:
        """The moments of both row sets (other is re-shifted to this shift, then added)."""
        if other.s2.shape != self.s2.shape:
            raise InputError(f"cannot merge moments of shapes {other.s2.shape} and "
                             f"{self.s2.shape}")
        d = other.shift - self.shift
        n = other.counts.astype(np.float64)
        s1 = other.s1 + n[:, None] * d[None, :]
        s2 = (other.s2 + other.s1[:, :, None] * d[None, None, :]
              + d[None, :, None] * other.s1[:, None, :] + n[:, None, None] * np.outer(d, d))
        return ColumnMoments(counts=self.counts + other.counts, shift=self.shift,
                             s1=self.s1 + s1, s2=self.s2 + s2, neurons=self.neurons,
                             classes=self.classes)


def moments_of_ids(store: Any, ids: np.ndarray, n_classes: int, layers: LayersArg = None, *,
                   chunk_mb: float = DEFAULT_CHUNK_MB, classes: list[str] | None = None
                   ) -> ColumnMoments:
    """:class:`ColumnMoments` of the store rows grouped by ``ids`` (int per row; negative
    ids are left out), in one streaming pass."""
    layers = store.check_layers(layers)
    ids = np.asarray(ids, dtype=np.int64)
    if len(ids) != store.num_words:
        raise InputError(f"{len(ids)} row ids for a store of {store.num_words} words")
    width = int(store.width)
    d = len(layers) * width
    counts = np.zeros(n_classes, dtype=np.int64)
    s1 = np.zeros((n_classes, d))
    s2 = np.zeros((n_classes, d, d))
    shift: np.ndarray | None = None
    for start, x in iter_blocks(store, layers, chunk_mb):
        if shift is None:
            shift = x.mean(axis=0)
        x -= shift
        block_ids = ids[start:start + len(x)]
        for c in np.unique(block_ids[block_ids >= 0]):
            xc = x[block_ids == c]
            counts[c] += len(xc)
            s1[c] += xc.sum(axis=0)
            s2[c] += xc.T @ xc
    if shift is None:
        shift = np.zeros(d)
    names = list(classes) if classes is not None else [str(c) for c in range(n_classes)]
    return ColumnMoments(counts=counts, shift=shift, s1=s1, s2=s2,
                         neurons=column_neurons(layers, width), classes=names)


def class_moments(store: Any, labels: Labels, layers: LayersArg = None, *,
                  chunk_mb: float = DEFAULT_CHUNK_MB) -> ColumnMoments:
    """Per-class counts, Σx and Σxxᵀ of the columns of ``layers`` (one pass; rows whose
    label id is negative are left out). Memory: classes × columns² float64."""
    check_aligned(store, labels)
    return moments_of_ids(store, labels.ids, len(labels.classes), layers,
                          chunk_mb=chunk_mb, classes=list(labels.classes))


@dataclass(frozen=True)
class GaussianRanking(Ranking):
    """A :class:`Ranking` whose ``scores`` are the single-dimension estimates Î(π; {j});
    ``order`` is the greedy order (not sorted by ``scores``). ``selected``: the greedily
    chosen columns in order; ``gains[t]``: Î gained at step t; ``mutual_information[t]``:
    Î(π; selected[:t + 1]) in nats."""

    selected: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    gains: np.ndarray = field(default_factory=lambda: np.zeros(0))
    mutual_information: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _covariances(m: ColumnMoments, prior: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mats, weights, degenerate)``: the total then per-class (present classes)
    regularised covariances, the weights ½, −½ p_c, and the constant columns."""
    if not float(prior) >= 0:
        raise InputError(f"prior must be >= 0 (pseudo-observations), got {prior}")
    present = np.flatnonzero(m.counts > 0)
    if len(present) < 2:
        raise InputError(f"a Gaussian probe needs at least 2 classes that occur, got "
                         f"{len(present)}")
    n, scatter_tot = m.total()
    cov_tot = scatter_tot / n
    var = np.clip(np.diag(cov_tot), 0.0, None)
    degenerate = var <= _DEGENERATE * max(float(var.max(initial=0.0)), 1e-300)
    scat = m.scatter()[present]
    n_c = m.counts[present].astype(np.float64)
    cls = (scat + float(prior) * cov_tot[None]) / (n_c + float(prior))[:, None, None]
    mats = np.concatenate([cov_tot[None], cls])
    ridge = RIDGE * np.where(degenerate, 1.0, var)
    idx = np.arange(len(var))
    mats[:, idx, idx] += ridge
    if degenerate.any():  # constant columns: independent unit variance, gain 0
        mats[:, degenerate, :] = 0.0
        mats[:, :, degenerate] = 0.0
        mats[:, idx[degenerate], idx[degenerate]] = 1.0
    weights = 0.5 * np.concatenate([[1.0], -n_c / n])
    return mats, weights, degenerate


def gaussian_mi(moments: ColumnMoments, columns: Sequence[int], *, prior: float = 1.0
                ) -> float:
    """Î(π; columns) in nats (see the module docstring), directly with ``slogdet``."""
    mats, weights, _ = _covariances(moments, prior)
    cols = np.asarray(columns, dtype=np.int64)
    if not len(cols):
        return 0.0
    sub = mats[:, cols[:, None], cols[None, :]]
    sign, logdet = np.linalg.slogdet(sub)
    if (sign <= 0).any():
        raise InputError("a covariance is not positive definite")
    return float(weights @ logdet)


def gaussian_selection(moments: ColumnMoments, *, k: int | None = None,
                       prior: float = 1.0, method: str = "gaussian") -> GaussianRanking:
    """Greedy MI selection on precomputed :class:`ColumnMoments` (see the module
    docstring); ``k`` greedy steps (None: every non-constant column)."""
    mats, weights, degenerate = _covariances(moments, prior)
    d = mats.shape[1]
    free = int((~degenerate).sum())
    if k is None:
        steps = free
    elif isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
        raise InputError(f"k must be a non-negative int (greedy steps) or None, got {k!r}")
    else:
        steps = min(int(k), free)
    diag = np.diagonal(mats, axis1=1, axis2=2).copy()  # [matrices, columns]
    single = weights @ np.log(diag)
    single[degenerate] = 0.0
    vecs = np.zeros((mats.shape[0], d, steps))
    cand = ~degenerate
    selected = np.zeros(steps, dtype=np.int64)
    gains = np.zeros(steps)
    for t in range(steps):
        gain = weights @ np.log(np.maximum(diag, 1e-300))
        gain[~cand] = -np.inf
        j = int(np.argmax(gain))  # first maximum: ties go to the lower index
        selected[t], gains[t] = j, gain[j]
        col = mats[:, :, j] - np.einsum("mdk,mk->md", vecs[:, :, :t], vecs[:, j, :t])
        piv = np.maximum(col[:, j], 1e-300)
        v = col / np.sqrt(piv)[:, None]
        vecs[:, :, t] = v
        diag -= v * v
        cand[j] = False
    chosen = set(selected.tolist())
    rest = [c for c in order_by_score(np.where(degenerate, -np.inf, single)).tolist()
            if c not in chosen]
    order = np.concatenate([selected, np.asarray(rest, dtype=np.int64)]).astype(np.int64)
    return GaussianRanking(order=order, scores=single, neurons=moments.neurons,
                           method=method, selected=selected, gains=gains,
                           mutual_information=np.cumsum(gains))


def gaussian(store: Any, labels: Labels, layers: LayersArg = None, *, k: int | None = None,
             prior: float = 1.0, chunk_mb: float = DEFAULT_CHUNK_MB) -> GaussianRanking:
    """Rank the neurons of ``layers`` by greedy Gaussian-probe MI selection (see the module
    docstring): ``k`` greedy steps (None: all), then the rest by Î(π; {j}); most important
    first, ties by column index."""
    m = class_moments(store, labels, layers, chunk_mb=chunk_mb)
    return gaussian_selection(m, k=k, prior=prior)
