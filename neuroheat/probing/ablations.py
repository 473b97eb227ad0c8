"""Ablation (Dalvi et al. 2019) and layer-wise probing.

:func:`ablation` takes a ranking of the columns (most important first) and, for every
fraction k (default 1, 5, 10, 20, 50, 100 %), keeps ``max(1, round(k · n))`` of the ``n``
columns — the top of the ranking, a seeded random set, or the bottom — and reports the test
accuracy (Pearson r for a regression probe):

- ``mode="retrain"`` (default): a new probe is trained on the kept columns only;
- ``mode="zero"``: one probe is trained on every column and the other columns are set to
  zero at its input (the standardised activations when ``standardize=True``), as NeuroX's
  ``zero_out_activations_keep_neurons`` does before ``evaluate_probe``.

A ranking that lists only some columns is completed with the others in column order (so
they count as the least important). The random sets are nested prefixes of one seeded
permutation. :func:`layerwise` trains one probe per layer. Both return result objects
(:mod:`neuroheat.probing.results`: read like the old dicts, plus ``save`` / ``load`` /
``show`` / ``to_pandas``). :func:`ablation_figure` draws the table (accuracy against the
kept fraction, one line per selection) as SVG.

Reference: Dalvi, Durrani, Sajjad, Belinkov, Bau, Glass, "What is one grain of sand in the
desert? Analyzing individual neurons in deep NLP models", AAAI 2019.

Example:
    >>> with open_store("acts.h5") as store:                               # doctest: +SKIP
    ...     labels = read_labels("train.conllu", store=store)
    ...     ranking = probeless(store, labels, layers="3")
    ...     result = ablation(store, labels, ranking, layers="3",
    ...                       split=Split(test_fraction=0.2))
    >>> result["top"]["0.1"], result.to_pandas().shape                     # doctest: +SKIP
    (0.81, (18, 4))
    >>> layerwise(store, labels, [0, 1, 2], test_fraction=0.2).best()      # doctest: +SKIP
    2
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.probing.config import ProbeConfig, Split, resolve
from neuroheat.probing.data import ProbeData, select_columns
from neuroheat.probing.labels import Labels
from neuroheat.probing.metrics import classification_scores, regression_scores
from neuroheat.probing.result import Ranking
from neuroheat.probing.results import LayerwiseResult, Result, frame

DEFAULT_FRACTIONS = (0.01, 0.05, 0.1, 0.2, 0.5, 1.0)
MODES = ("retrain", "zero")
SELECTIONS = ("top", "random", "bottom")

__all__ = ["DEFAULT_FRACTIONS", "MODES", "SELECTIONS", "AblationResult", "ablation",
           "ablation_figure",
           "check_fractions", "complete_order", "fraction_key", "layerwise", "subset_sizes"]

def fraction_key(fraction: float) -> str:
    """The JSON key of a fraction: ``0.1`` → ``"0.1"``, ``1.0`` → ``"1"``."""
    return f"{float(fraction):g}"


def check_fractions(fractions: Sequence[float]) -> list[float]:
    """The fractions as floats in (0, 1], in the order given (InputError otherwise)."""
    out = [float(f) for f in fractions]
    if not out:
        raise InputError("fractions is empty; give e.g. 0.01,0.1,1")
    for f in out:
        if not 0.0 < f <= 1.0:
            raise InputError(f"a fraction must be in (0, 1], got {f}")
    if len({fraction_key(f) for f in out}) != len(out):
        raise InputError("a fraction is listed twice")
    return out


def subset_sizes(n: int, fractions: Sequence[float]) -> dict[str, int]:
    """Columns kept per fraction: ``max(1, round(f · n))``."""
    return {fraction_key(f): max(1, min(n, round(float(f) * n))) for f in fractions}


def complete_order(order: Any, n: int) -> np.ndarray:
    """int64 permutation of ``range(n)``: ``order`` (a :class:`Ranking`, or column indices)
    then the columns it leaves out, in column order."""
    order = getattr(order, "order", order)
    o = np.asarray(order, dtype=np.int64).reshape(-1)
    if len(o) and (o.min() < 0 or o.max() >= n):
        raise InputError(f"the ranking names column {int(o.min() if o.min() < 0 else o.max())}"
                         f" but there are {n} columns (0..{n - 1})")
    if len(np.unique(o)) != len(o):
        raise InputError("the ranking lists a column twice")
    rest = np.setdiff1d(np.arange(n, dtype=np.int64), o)
    return np.concatenate([o, rest]).astype(np.int64)


def _metric(probe: Any) -> float | None:
    if probe.task == "regression":
        return probe.correlation.get("test", {}).get("pearson")
    return probe.accuracy.get("test")


def _zeroed_score(probe: Any, data: ProbeData, keep: np.ndarray) -> float | None:
    w = probe.weights.copy()
    w[:, np.setdiff1d(np.arange(w.shape[1]), keep)] = 0.0
    preds, trues = [], []
    for x, y in data.chunks("test"):
        out = x.astype(np.float64) @ w.T + probe.bias
        preds.append(out[:, 0] if probe.task == "regression" else out.argmax(axis=1))
        trues.append(y)
    if not trues:
        return None
    y_true, y_pred = np.concatenate(trues), np.concatenate(preds)
    if probe.task == "regression":
        return regression_scores(y_true, y_pred)["pearson"]
    return classification_scores(y_true, y_pred, len(probe.classes))["accuracy"]


class AblationResult(Result):
    """Test accuracy (Pearson r for regression) with the top / random / bottom fraction of
    a ranking: ``result["top"]["0.1"]``; ``sizes`` (neurons kept per fraction), ``mode``,
    ``split``, and the ``ranking`` (a :class:`Ranking`, when one was given).
    ``to_dict`` is the RANK.json of ``neuroheat rank``."""

    _TAG = "neuroheat-ablation"

    def __init__(self, table: dict[str, dict[str, Any]], sizes: dict[str, int], *,
                 mode: str = "retrain", split: dict[str, Any] | None = None,
                 ranking: Ranking | None = None, metric: str = "test accuracy"):
        self._table = {k: dict(v) for k, v in table.items()}
        self.sizes, self.mode, self.split = dict(sizes), mode, split
        self.ranking, self.metric = ranking, metric

    def to_dict(self) -> dict[str, Any]:
        """``method``, ``ranking``, ``order``, ``scores``, ``neurons`` (when ranked),
        ``ablation``, ``sizes``, ``mode``, ``split``, ``metric``."""
        doc: dict[str, Any] = {}
        if self.ranking is not None:
            r = self.ranking
            doc = {"method": r.method, "ranking": r.pairs(),
                   "order": [int(c) for c in r.order],
                   "scores": [float(s) for s in r.scores],
                   "neurons": [[int(a), int(b)] for a, b in r.neurons]}
        doc.update({"ablation": self._table, "sizes": self.sizes, "mode": self.mode,
                    "split": self.split, "metric": self.metric})
        return doc

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> AblationResult:
        ranking = None
        if "order" in doc:
            ranking = Ranking(order=np.asarray(doc["order"], dtype=np.int64),
                              scores=np.asarray(doc["scores"], dtype=np.float64),
                              neurons=np.asarray(doc["neurons"], dtype=np.int64).reshape(-1, 2),
                              method=str(doc.get("method", "")))
        return cls(doc["ablation"], {k: int(v) for k, v in doc["sizes"].items()},
                   mode=doc.get("mode", "retrain"), split=doc.get("split"), ranking=ranking,
                   metric=doc.get("metric", "test accuracy"))

    def to_pandas(self) -> Any:
        """One row per (selection, fraction): ``selection``, ``fraction``, ``neurons``,
        ``value``."""
        return frame([{"selection": name, "fraction": float(key),
                        "neurons": self.sizes.get(key), "value": value}
                       for name, row in self._table.items() for key, value in row.items()],
                      "AblationResult")

    def show(self, title: str | None = None) -> Any:
        """The ablation figure (:func:`~neuroheat.probing.ablations.ablation_figure`)."""
        method = self.ranking.method if self.ranking is not None else None
        default = f"ablation: {method} ranking" if method else "ablation"
        return ablation_figure(self._table, self.sizes, title=title or default,
                               ylabel=self.metric)


def ablation(store: Any, labels: Labels, ranking_columns: Any, *, layers: Any = None,
             neurons: Sequence[Sequence[int]] | None = None,
             fractions: Sequence[float] = DEFAULT_FRACTIONS, mode: str = "retrain",
             config: ProbeConfig | None = None, split: Split | None = None,
             **settings: Any) -> AblationResult:
    """An :class:`~neuroheat.probing.results.AblationResult` (``result["top"]["0.01"]``):
    test accuracy with the top / random / bottom fraction of the columns of ``layers`` (or
    ``neurons``) in the order ``ranking_columns`` (a :class:`Ranking` or column indices; see
    the module docstring). ``config`` (or its fields as keywords: ``recipe=``, ``l2=``,
    ``seed=``, ...) sets the probes; ``seed`` also seeds the random sets; ``split`` (or
    ``test_sentences=`` / ``test_fraction=``) must hold out test sentences."""
    from neuroheat.probing.probe import Probe

    config, split = resolve(config, split, settings, where="ablation")
    if mode not in MODES:
        raise InputError(f"unknown ablation mode {mode!r}; choose one of {', '.join(MODES)}")
    fractions = check_fractions(fractions)
    if not split.has_test:
        raise InputError("ablation reports test accuracy: give test_sentences= or "
                         "test_fraction=")
    columns = select_columns(store, layers, neurons)
    n = len(columns)
    order = complete_order(ranking_columns, n)
    shuffled = np.random.default_rng(config.seed).permutation(n)
    sizes = subset_sizes(n, fractions)
    full = None
    if mode == "zero":
        data = ProbeData(store, labels, neurons=columns, config=config, split=split)
        full = Probe(config).fit(data)
    cache: dict[tuple[int, ...], float | None] = {}
    out: dict[str, dict[str, Any]] = {name: {} for name in SELECTIONS}
    for key, k in sizes.items():
        picks = {"top": order[:k], "random": shuffled[:k], "bottom": order[n - k:]}
        for name, cols in picks.items():
            cols = np.sort(cols)
            sig = tuple(int(c) for c in cols)
            if sig not in cache:
                if full is not None:
                    cache[sig] = _zeroed_score(full, data, cols)
                else:
                    sub = [columns[c] for c in cols]
                    probe = Probe(config).fit(ProbeData(store, labels, neurons=sub,
                                                        config=config, split=split))
                    cache[sig] = _metric(probe)
            out[name][key] = cache[sig]
    ranking = ranking_columns if isinstance(ranking_columns, Ranking) else None
    metric = "test pearson r" if config.task == "regression" else "test accuracy"
    return AblationResult(out, sizes, mode=mode, split=split.to_json(config.seed),
                          ranking=ranking, metric=metric)


def layerwise(store: Any, labels: Labels, layers: Any = None, *,
              config: ProbeConfig | None = None, split: Split | None = None,
              **settings: Any) -> LayerwiseResult:
    """A :class:`~neuroheat.probing.results.LayerwiseResult` (``result[layer] = {"train":
    acc, "test": acc}``): one probe per layer of ``layers`` (every stored layer when None),
    same split and settings (``config`` or its fields as keywords) for all."""
    from neuroheat.probing.probe import Probe

    config, split = resolve(config, split, settings, where="layerwise")
    out: dict[int, dict[str, float | None]] = {}
    selected: dict[int, Any] = {}
    for layer in store.check_layers(layers):
        probe = Probe(config).fit(store, labels, layers=[layer], split=split)
        if probe.task == "regression":
            out[layer] = {s: probe.correlation.get(s, {}).get("pearson")
                          for s in ("train", "test")}
        else:
            out[layer] = {s: probe.accuracy.get(s) for s in ("train", "test")}
        if probe.selected is not None:
            selected[layer] = {"l2": probe.selected["l2"],
                               "iterations": probe.selected["iterations"]}
    metric = "pearson r" if config.task == "regression" else "accuracy"
    return LayerwiseResult(out, split=split.to_json(config.seed), metric=metric,
                           selected=selected)


def ablation_figure(table: dict[str, dict[str, Any]], sizes: dict[str, int] | None = None, *,
                    title: str = "ablation", ylabel: str = "test accuracy") -> Any:
    """An SVG line chart of an :func:`ablation` table: accuracy against the kept fraction
    (evenly spaced, in the table's order; ``sizes`` adds the neuron counts), one line each
    for top / random / bottom, drawn by :func:`~neuroheat.viz.charts.ablation_chart`. Returns
    an :class:`~neuroheat.viz.drawing.SVGFigure` (``.save("fig.svg" | ".png" | ".pdf")``)."""
    from neuroheat.viz.charts import ablation_chart

    keys = list(table.get("top", {}))
    if not keys:
        raise InputError("the ablation table is empty")
    series = {name: [table.get(name, {}).get(k) for k in keys] for name in SELECTIONS}
    return ablation_chart(keys, series, sizes, title=title, ylabel=ylabel)
