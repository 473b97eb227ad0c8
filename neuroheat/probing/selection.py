"""Model selection of the default probe: its ``l2`` penalty, chosen on a development split.

:func:`select_penalty` holds out a seeded ``dev_fraction`` of the *training* sentences
(:meth:`ProbeData.holdout`; the test rows are never read) and walks :data:`PENALTY_PATH`
from the strongest penalty to the weakest with **one** L-BFGS state
(:class:`~neuroheat.probing.training.Fitter`): the first penalty is fitted from zero
weights for :data:`FIRST_ITERS` iterations on the first :data:`FIRST_FRACTION` of the
path's rows (a warm-up: cheap rows, and it is never the best), every later one for
:data:`PATH_ITERS` iterations on all of them, going on from the last weights *and* the
curvature history (re-created from scratch per penalty, each fit would start with a short
gradient step). Every fit is scored on the development rows (accuracy; minus the mean
squared error for regression): a weaker penalty is kept only when it raises the score by
more than :data:`MIN_GAIN` of it (near-ties go to the stronger penalty), and the path stops
:data:`PATIENCE` steps after the best. With so few iterations per penalty the path is also
an early stopping: its later steps both weaken the penalty and train longer. The probe is
then refitted on all training rows with the chosen penalty from the chosen fit, keeping the
curvature history, for at most :data:`REFIT_ITERS` iterations (see
:meth:`neuroheat.probing.probe.Probe.fit`), and reports ``selected = {"l2", "iterations",
"path", ...}``. On the CPU the in-memory training rows are held once, column-major, path
rows first (:func:`_shared_columns`).

Example:
    >>> data = ProbeData(store, labels, layers="6", test_fraction=0.2)  # doctest: +SKIP
    >>> choice = select_penalty(data, outputs=len(data.classes), l1=1e-5)   # doctest: +SKIP
    >>> choice.l2, [round(s["dev"], 3) for s in choice.path]              # doctest: +SKIP
    (0.001, [0.871, 0.889, 0.897, 0.895])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neuroheat.errors import InputError

__all__ = ["FIRST_FRACTION", "FIRST_ITERS", "MIN_GAIN", "PATH_ITERS", "PATIENCE", "PENALTY_PATH",
           "REFIT_ITERS", "Selection", "dev_scores", "select_penalty"]

#: the l2 values tried, strongest first (each fit goes on from the last); 1e-2 was never
#: the best on the benchmark's four tasks and cost a full step
PENALTY_PATH = (3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5)
#: a weaker penalty must raise the development score by more than this fraction of it
MIN_GAIN = 1e-3
#: L-BFGS iterations of the path's first (strongest) penalty, from zero weights
FIRST_ITERS = 10
#: fraction of the path's training rows (the first ones) the first penalty is fitted on
FIRST_FRACTION = 0.25
#: L-BFGS iterations per later penalty (warm-started, with the curvature history)
PATH_ITERS = 4
#: steps past the best development score before the path stops
PATIENCE = 1
#: L-BFGS iterations of the final fit on all training rows, from the chosen fit with the
#: path's curvature history (at most ``max_iter``); 3 lose up to 0.4 points of test accuracy
#: on the benchmark's tasks (docs/benchmarks.md)
REFIT_ITERS = 5


@dataclass
class Selection:
    """The chosen ``l2``, the warm start it leaves (``weight``, ``bias``) and the ``path``
    (``[{"l2", "dev", "dev_loss", "iterations", "rows"}]``: development score per penalty,
    ``rows`` the training rows of that step)."""

    l2: float
    weight: np.ndarray
    bias: np.ndarray
    path: list[dict[str, float]] = field(default_factory=list)
    dev_rows: int = 0
    #: a :class:`~neuroheat.probing.training.Fitter` on every training row, at the chosen
    #: fit, with the path's curvature history: the refit
    fitter: Any = None
    #: every training row as ``(float32 [columns, rows], targets)`` (path rows, then the
    #: development rows) when held so (CPU, in memory): what the probe scores its training
    #: split on; None otherwise
    columns: tuple[np.ndarray, np.ndarray] | None = None


def dev_scores(data: Any, weight: np.ndarray, bias: np.ndarray,
               by_column: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[float, float]:
    """``(score, loss)`` of a probe on the ``"test"`` rows of ``data`` (the development rows
    of a holdout view): accuracy and mean cross-entropy, or ``-mse`` and mse (regression).
    ``by_column``: those rows as ``(float32 [columns, rows], targets)``, read instead."""
    w32, b32 = weight.astype(np.float32), bias.astype(np.float32)
    hits, loss, n = 0.0, 0.0, 0
    blocks = data.chunks("test") if by_column is None else [by_column]
    for x, y in blocks:
        if by_column is None:
            out = np.asarray(x, dtype=np.float32) @ w32.T + b32
        else:  # [outputs, rows] -> [rows, outputs]: a view
            out = (w32 @ x + b32[:, None]).T
        if data.task == "regression":
            err = float(np.sum((out[:, 0].astype(np.float64) - y) ** 2))
            hits -= err
            loss += err
        else:
            out64 = out.astype(np.float64)
            top = out64.max(axis=1)
            lse = top + np.log(np.exp(out64 - top[:, None]).sum(axis=1))
            loss += float(np.sum(lse - out64[np.arange(len(y)), y]))
            hits += float(np.sum(out.argmax(axis=1) == y))
        n += len(y)
    n = max(n, 1)
    return hits / n, loss / n


def select_penalty(data: Any, outputs: int, *, l1: float, device: str | None = None,
                   path: tuple[float, ...] | None = None) -> Selection:
    """Choose ``l2`` for the default recipe on a development split of ``data``'s training
    sentences (see the module docstring); ``data``'s test rows are never read."""
    from neuroheat.probing.training import Fitter

    if path is not None and len(path) == 0:
        raise InputError("the penalty path is empty: give at least one l2 value")
    columns = device in (None, "cpu") and data.in_memory
    view = data.holdout(read=not columns)
    # the first (strongest) penalty, from zero weights, on the head of the path's rows
    warm = view.head(FIRST_FRACTION)
    shared = _shared_columns(data, view, warm) if columns else (None,) * 5
    fitter = Fitter(warm, outputs, l1=l1, device=device, init=None, by_column=shared[0],
                    moments=shared[4])
    best: Selection | None = None
    best_score = -np.inf
    steps: list[dict[str, float]] = []
    since_best = 0
    for l2 in PENALTY_PATH if path is None else path:
        if len(steps) == 1:  # from the first penalty's rows to all the path's
            fitter = fitter.moved(view, fitter.probe(fitter.x), by_column=shared[1])
        fit = fitter.fit(float(l2), PATH_ITERS if steps else FIRST_ITERS)
        score, loss = dev_scores(view, fit.weight, fit.bias, by_column=shared[3])
        steps.append({"l2": float(l2), "dev": score, "dev_loss": loss,
                      "iterations": fit.iterations, "rows": fitter.n_train})
        if best is None or score > best_score + MIN_GAIN * abs(best_score):
            best_score, since_best = score, 0
            best = Selection(float(l2), fit.weight, fit.bias)
        else:
            since_best += 1
            if since_best >= PATIENCE:
                break
    if best is None:  # an empty path: nothing was fitted
        raise InputError("the penalty path is empty: give at least one l2 value")
    best.path, best.dev_rows = steps, view.num_rows("test")
    best.fitter = fitter.moved(data, (best.weight, best.bias), by_column=shared[2])
    best.columns = None if shared[2] is None else shared[2][0]
    return best


def _shared_columns(data: Any, view: Any, warm: Any) -> tuple[Any, ...]:
    """The training rows (in memory, on the CPU) held once, column-major ``[columns,
    rows]``: the path's rows first (corpus order, so the first penalty's are its head), then
    the development rows, read from the store straight into that layout (or gathered from
    cached rows; :func:`~neuroheat.probing.rows.columns_of`). The first penalty, the path
    and the refit read slices of it (``by_column`` of their fitters), the development
    scores its tail, and the first penalty's preconditioner is the moments of its head:
    ``(warm, path, all, dev, warm moments)``."""
    from neuroheat.probing.numpy_loss import column_moments
    from neuroheat.probing.rows import columns_of

    path_rows = np.flatnonzero(view.masks["train"])
    dev_rows = np.flatnonzero(view.masks["test"])
    xt, yt = columns_of(data, [path_rows, dev_rows])
    n_path, n_warm = len(path_rows), warm.num_rows("train")
    moments = None if data.mean is not None else column_moments(xt[:, :n_warm])
    return ([(xt[:, :n_warm], yt[:n_warm])], [(xt[:, :n_path], yt[:n_path])], [(xt, yt)],
            (xt[:, n_path:], yt[n_path:]), moments)
