"""Scores of a probe's predictions: accuracy, macro-F1, per-class accuracy; Pearson and
Spearman correlation for regression.

Per-class accuracy of class c is the fraction of the rows of class c predicted as c (as in
NeuroX's ``evaluate_probe``); macro-F1 averages F1 over the classes that occur in the true
or the predicted labels.

Example:
    >>> import numpy as np
    >>> classification_scores(np.array([0, 1, 1]), np.array([0, 1, 0]), 2)["accuracy"]
    0.6666666666666666
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["classification_scores", "regression_scores"]


def classification_scores(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int
                          ) -> dict[str, Any]:
    """``accuracy``, ``f1`` (macro) and ``per_class`` (list, None for a class with no rows)."""
    y_true, y_pred = np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)
    if not len(y_true):
        return {"accuracy": None, "f1": None, "per_class": [None] * n_classes}
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (y_true, y_pred), 1)
    hits = np.diag(confusion).astype(np.float64)
    support, predicted = confusion.sum(axis=1), confusion.sum(axis=0)
    present = (support + predicted) > 0
    f1 = 2 * hits[present] / (support[present] + predicted[present])
    per_class = [float(hits[c] / support[c]) if support[c] else None for c in range(n_classes)]
    return {"accuracy": float(hits.sum() / len(y_true)), "f1": float(f1.mean()),
            "per_class": per_class}


def regression_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    """``pearson``, ``spearman`` and ``mse`` (None where undefined: < 2 rows or constant)."""
    from scipy import stats

    y_true, y_pred = np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64)
    if not len(y_true):
        return {"pearson": None, "spearman": None, "mse": None}
    mse = float(np.mean((y_true - y_pred) ** 2))
    if len(y_true) < 2 or np.ptp(y_true) == 0 or np.ptp(y_pred) == 0:
        return {"pearson": None, "spearman": None, "mse": mse}
    return {"pearson": float(stats.pearsonr(y_true, y_pred)[0]),
            "spearman": float(stats.spearmanr(y_true, y_pred)[0]), "mse": mse}
