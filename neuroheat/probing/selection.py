"""Model selection of the default probe: its ``l2`` penalty, chosen on a development split.

:func:`select_penalty` holds out a seeded ``dev_fraction`` of the *training* sentences
(:meth:`ProbeData.holdout`; the test rows are never read), fits the default recipe along
:data:`PENALTY_PATH` from the strongest penalty to the weakest — each fit warm-started from
the previous one, :data:`PATH_ITERS` L-BFGS iterations each — scores every fit on the
development rows (accuracy; minus the mean squared error for regression): a weaker penalty
is kept only when it raises the score by more than :data:`MIN_GAIN` of it (near-ties go to
the stronger penalty), and the path stops :data:`PATIENCE` steps after the best. The probe is then refitted on
all training rows with the chosen penalty, warm-started from the chosen fit, for at most
:data:`REFIT_ITERS` iterations (see
:meth:`neuroheat.probing.probe.Probe.fit`), and reports ``selected = {"l2", "iterations",
...}``.

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

__all__ = ["FIRST_ITERS", "MIN_GAIN", "PATH_ITERS", "PATIENCE", "PENALTY_PATH", "REFIT_ITERS", "Selection",
           "dev_scores", "select_penalty"]

#: the l2 values tried, strongest first (each fit warm-starts the next)
PENALTY_PATH = (1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5)
#: a weaker penalty must raise the development score by more than this fraction of it
MIN_GAIN = 1e-3
#: L-BFGS iterations of the path's first (strongest) penalty, from zero weights
FIRST_ITERS = 10
#: fraction of the non-development training sentences the path fits on
PATH_FRACTION = 1.0
#: fraction of the path's training sentences the first penalty is fitted on
FIRST_FRACTION = 0.25
#: L-BFGS iterations per later penalty (warm-started, with the curvature history)
PATH_ITERS = 4
#: steps past the best development score before the path stops
PATIENCE = 1
#: L-BFGS iterations of the final fit on all training rows, warm-started from the chosen
#: fit (at most ``max_iter``): 10 give the test accuracy of 30 on the benchmark's tasks
REFIT_ITERS = 5


@dataclass
class Selection:
    """The chosen ``l2``, the warm start it leaves (``weight``, ``bias``) and the ``path``
    (``[{"l2", "dev", "dev_loss", "iterations"}]``: development score per penalty)."""

    l2: float
    weight: np.ndarray
    bias: np.ndarray
    path: list[dict[str, float]] = field(default_factory=list)
    dev_rows: int = 0
    #: the path's :class:`~neuroheat.probing.training.Fitter` (its curvature history)
    fitter: Any = None


def dev_scores(data: Any, weight: np.ndarray, bias: np.ndarray) -> tuple[float, float]:
    """``(score, loss)`` of a probe on the ``"test"`` rows of ``data`` (the development rows
    of a holdout view): accuracy and mean cross-entropy, or ``-mse`` and mse (regression)."""
    w32, b32 = weight.astype(np.float32), bias.astype(np.float32)
    hits, loss, n = 0.0, 0.0, 0
    for x, y in data.chunks("test"):
        out = np.asarray(x, dtype=np.float32) @ w32.T + b32
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

    view = data.holdout()
    rows = view.holdout(1.0 - PATH_FRACTION) if PATH_FRACTION < 1.0 else view
    # the first (strongest) penalty, from zero weights, on a seeded part of the path's rows
    warm = rows.head(FIRST_FRACTION) if FIRST_FRACTION < 1.0 else rows
    fitter = Fitter(warm, outputs, l1=l1, device=device)
    best: Selection | None = None
    best_score = -np.inf
    steps: list[dict[str, float]] = []
    since_best = 0
    for l2 in PENALTY_PATH if path is None else path:
        if steps and fitter.n_train != rows.num_rows("train"):
            fitter = fitter.moved(rows, (fit.weight, fit.bias))
        fit = fitter.fit(float(l2), PATH_ITERS if steps else FIRST_ITERS)
        score, loss = dev_scores(view, fit.weight, fit.bias)
        steps.append({"l2": float(l2), "dev": score, "dev_loss": loss,
                      "iterations": fit.iterations, "rows": fitter.n_train})
        if best is None or score > best_score + MIN_GAIN * abs(best_score):
            best_score, since_best = score, 0
            best = Selection(float(l2), fit.weight, fit.bias)
        else:
            since_best += 1
            if since_best >= PATIENCE:
                break
    assert best is not None
    best.path, best.dev_rows, best.fitter = steps, view.num_rows("test"), fitter
    return best
