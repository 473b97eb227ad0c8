"""Scores of an explanation, each computable by hand from the recorded examples.

Detection and fuzzing: binary metrics of the judge's predictions against the truth
(``activating``). Simulation: Pearson correlation of simulated and true activations.

Example:
    >>> m = binary_metrics([1, 1, 0, 0], [1, 1, 1, 1])
    >>> m["recall"], m["precision"], m["accuracy"], m["balanced_accuracy"]
    (1.0, 0.5, 0.5, 0.5)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["auc", "binary_metrics", "correlation", "metrics_from_records"]


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def binary_metrics(truth: Sequence[int], predicted: Sequence[int]) -> dict[str, float]:
    """``accuracy``, ``balanced_accuracy`` (mean recall of the classes present),
    ``precision``, ``recall``, ``f1`` (0.0 where a denominator is 0) of 0/1 predictions."""
    tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t and p)
    fp = sum(1 for t, p in zip(truth, predicted, strict=True) if not t and p)
    fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t and not p)
    tn = len(truth) - tp - fp - fn
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    per_class = [_ratio(tp, tp + fn)] if tp + fn else []
    per_class += [_ratio(tn, tn + fp)] if tn + fp else []
    return {"accuracy": _ratio(tp + tn, len(truth)),
            "balanced_accuracy": sum(per_class) / len(per_class) if per_class else 0.0,
            "precision": precision, "recall": recall,
            "f1": _ratio(2 * precision * recall, precision + recall)}


def metrics_from_records(records: Sequence[dict], scorer: str) -> dict[str, float] | None:
    """:func:`binary_metrics` of the ``score_examples`` records of one scorer (None if it
    has none)."""
    rows = [r for r in records if r["scorer"] == scorer and r["prediction"] is not None]
    if not rows:
        return None
    return binary_metrics([int(r["activating"]) for r in rows],
                          [int(r["prediction"]) for r in rows])


def correlation(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Pearson correlation (None when either side is constant or empty).

    Example:
        >>> correlation([0, 1, 2], [1, 3, 5])
        1.0
    """
    n = len(x)
    if n < 2 or len(y) != n:
        return None
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    if sxx <= 0 or syy <= 0:
        return None
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def auc(truth: Sequence[int], p: Sequence[float]) -> float | None:
    """Area under the ROC curve of scores ``p``: the share of (positive, negative) pairs
    where the positive scores higher, ties counting half (None without both classes).

    Example:
        >>> auc([1, 1, 0, 0], [0.9, 0.4, 0.4, 0.1])
        0.875
    """
    pos = [q for t, q in zip(truth, p, strict=True) if t]
    neg = [q for t, q in zip(truth, p, strict=True) if not t]
    if not pos or not neg:
        return None
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in pos for b in neg)
    return wins / (len(pos) * len(neg))
