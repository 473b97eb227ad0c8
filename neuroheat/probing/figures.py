"""Probing figures: accuracy per layer, and one neuron's activations per class.

This module prepares the numbers; :mod:`neuroheat.viz.charts` draws them, on the same frame
as :func:`~neuroheat.probing.ablations.ablation_figure`. Both return an
:class:`~neuroheat.viz.drawing.SVGFigure` (``.save("fig.svg" | ".png" | ".pdf")``, shown
inline in Jupyter). Class names and other label text come from data and are XML-escaped (and
stripped of characters XML cannot hold).

- :func:`layerwise_figure`: the table of :func:`~neuroheat.probing.ablations.layerwise`,
  layers on x, accuracy (0..1) on y, one line each for train and test
  (``<g class="nh-series" data-split="train">``).
- :func:`class_distribution_figure`: one neuron of the store over every labelled row, one
  column per class (``<g class="nh-class" data-class-index="k">``); ``kind="strip"`` draws
  seeded jittered points (at most ``max_points_per_class`` per class, drawn without
  replacement), ``kind="box"`` quartiles (numpy's linear percentiles), a median line and
  Tukey whiskers (the most extreme values within 1.5 IQR of the box), outliers as points.
  The numbers drawn are in ``figure.stats`` (per class: ``n``, ``q1``, ``median``, ``q3``,
  ``low``, ``high``).

Example:
    >>> fig = layerwise_figure({0: {"train": 0.8, "test": 0.7}, 1: {"train": 0.9, "test": 0.85}})
    >>> fig.save("layers.svg")                                          # doctest: +SKIP
    >>> with open_store("acts.h5") as store:                               # doctest: +SKIP
    ...     labels = read_labels("train.conllu", store=store)
    ...     class_distribution_figure(store, labels, 3, 17, kind="box").save("n17.png")
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuroheat.errors import InputError

__all__ = ["KINDS", "box_stats", "class_distribution_figure", "layerwise_figure"]

KINDS = ("strip", "box")


def _layer_key(key: Any) -> int:
    try:
        return int(key)
    except (TypeError, ValueError):
        raise InputError(f"layer {key!r} in the layer-wise table is not a number") from None


def layerwise_figure(table: dict[Any, dict[str, Any]], *, title: str = "layer-wise probing",
                     ylabel: str = "accuracy",
                     splits: tuple[str, ...] = ("train", "test")) -> Any:
    """An SVG line chart of a :func:`~neuroheat.probing.ablations.layerwise` table
    (``{layer: {"train": acc, "test": acc}}``; layer keys may be strings, as in JSON):
    layers on x in ascending order, accuracy on y (0..1; -1..1 when a value is negative, as
    a Pearson r can be), one line with points per split, and a legend. Missing (``None``)
    values are left out."""
    from neuroheat.viz.charts import layer_lines_chart

    if not table:
        raise InputError("the layer-wise table is empty")
    rows = sorted(((_layer_key(k), v) for k, v in table.items()), key=lambda kv: kv[0])
    layers = [k for k, _ in rows]
    if len(set(layers)) != len(layers):
        raise InputError("the layer-wise table lists a layer twice")
    series = {s: [(row or {}).get(s) for _, row in rows] for s in splits}
    return layer_lines_chart(layers, series, title=title, ylabel=ylabel)


def box_stats(values: Any) -> dict[str, float | int]:
    """``n``, ``q1``, ``median``, ``q3`` (``np.percentile``, linear) and the Tukey whiskers
    ``low`` / ``high`` (the most extreme values within 1.5 · IQR of the box) of ``values``;
    the quantities are NaN when ``values`` is empty."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if v.size == 0:
        nan = float("nan")
        return {"n": 0, "q1": nan, "median": nan, "q3": nan, "low": nan, "high": nan}
    q1, med, q3 = (float(q) for q in np.percentile(v, [25, 50, 75]))
    iqr = q3 - q1
    inside = v[(v >= q1 - 1.5 * iqr) & (v <= q3 + 1.5 * iqr)]
    return {"n": int(v.size), "q1": q1, "median": med, "q3": q3,
            "low": float(inside.min()), "high": float(inside.max())}


def _class_values(store: Any, labels: Any, layer: int, neuron: int
                  ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    if getattr(labels, "sentence_level", False):
        raise InputError("these labels are per sentence; a neuron's distribution per class "
                         "needs word-level labels")
    ids = np.asarray(labels.ids, dtype=np.int64).reshape(-1)
    values = np.asarray(store.neuron(int(layer), int(neuron)), dtype=np.float64).reshape(-1)
    if len(ids) != len(values):
        raise InputError(f"the labels cover {len(ids)} words but the store holds "
                         f"{len(values)}; read the labels against this store")
    keep = ids >= 0
    return values[keep], ids[keep], [str(c) for c in labels.classes]


def class_distribution_figure(store: Any, labels: Any, layer: int, neuron: int, *,
                              kind: str = "strip", max_points_per_class: int = 200,
                              seed: int = 0, title: str | None = None) -> Any:
    """One neuron's activation over the labelled words (``labels.ids`` aligned with the
    store's rows; ids < 0 are left out), one column per class of ``labels.classes`` (its
    name as the tick label). ``kind="strip"``: at most ``max_points_per_class`` points per
    class (a seeded subsample), jittered sideways with ``seed``; ``kind="box"``: see
    :func:`box_stats`. The same arguments give the same bytes. ``figure.stats`` holds the
    per-class :func:`box_stats` of all the class's values (not the subsample)."""
    from neuroheat.viz.charts import class_columns_chart

    if kind not in KINDS:
        raise InputError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    if int(max_points_per_class) < 1:
        raise InputError(f"max_points_per_class must be at least 1, got {max_points_per_class}")
    values, ids, classes = _class_values(store, labels, layer, neuron)
    if not classes:
        raise InputError("the labels have no classes")
    per_class = [values[ids == k] for k in range(len(classes))]
    stats = [box_stats(v) for v in per_class]
    finite = values[np.isfinite(values)]
    value_range = (float(finite.min()) if finite.size else 0.0,
                   float(finite.max()) if finite.size else 0.0)
    fig = class_columns_chart(
        classes, per_class, stats, value_range=value_range, kind=kind,
        max_points_per_class=max_points_per_class, seed=seed,
        title=title if title is not None else f"layer {int(layer)}, neuron {int(neuron)}")
    fig.stats = dict(zip(classes, stats, strict=True))
    return fig
