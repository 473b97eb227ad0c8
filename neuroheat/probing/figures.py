"""Probing figures: accuracy per layer, and one neuron's activations per class.

Both draw on the same frame as :func:`~neuroheat.probing.ablations.ablation_figure` and
return an :class:`~neuroheat.viz.drawing.SVGFigure` (``.save_as("fig.svg" | ".png" |
".pdf")``, shown inline in Jupyter). Class names and other label text come from data and are
XML-escaped (and stripped of characters XML cannot hold).

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
    >>> fig.save_as("layers.svg")                                          # doctest: +SKIP
    >>> with open_store("acts.h5") as store:                               # doctest: +SKIP
    ...     labels = read_labels("train.conllu", store=store)
    ...     class_distribution_figure(store, labels, 3, 17, kind="box").save_as("n17.png")
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neuroheat.errors import InputError

__all__ = ["KINDS", "box_stats", "class_distribution_figure", "layerwise_figure"]

KINDS = ("strip", "box")
_SPLIT_COLORS = {"train": "#1f77b4", "test": "#d62728"}
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf")
_FONT = "sans-serif"


def _safe(text: Any) -> str:
    from neuroheat.viz.text.glyphs import xml_safe

    return xml_safe(str(text))


def _figure(width: int, height: int) -> Any:
    from neuroheat.viz.drawing import SVGFigure

    # debug=False: svgwrite's validator refuses data-* attributes.
    return SVGFigure(size=(width, height), debug=False)


def _frame(fig: Any, box: tuple[float, float, float, float], title: str, xlabel: str,
           ylabel: str, y_ticks: list[float], y_of: Any) -> None:
    """White background, title, axes, horizontal grid with tick labels, axis labels — the
    layout of :func:`~neuroheat.probing.ablations.ablation_figure`."""
    from neuroheat.viz.drawing import px

    left, top, pw, ph = box
    width, height = fig.attribs["width"], fig.attribs["height"]
    fig.add(fig.rect((0, 0), (width, height), fill="white"))
    fig.add(fig.text(_safe(title), insert=(left, 22), font_size=14, font_family=_FONT))
    axes = fig.g(stroke="#333", stroke_width=1)
    axes.add(fig.line((left, top), (left, top + ph)))
    axes.add(fig.line((left, top + ph), (left + pw, top + ph)))
    fig.add(axes)
    for t in y_ticks:
        y = px(y_of(t))
        fig.add(fig.line((left, y), (left + pw, y), stroke="#ddd", stroke_width=0.5))
        fig.add(fig.text(f"{t:.6g}", insert=(left - 8, y + 4), font_size=10,
                         text_anchor="end", font_family=_FONT))
    fig.add(fig.text(_safe(xlabel), insert=(left + pw / 2, height - 12), font_size=11,
                     text_anchor="middle", font_family=_FONT))
    fig.add(fig.text(_safe(ylabel), insert=(14, top + ph / 2), font_size=11,
                     text_anchor="middle", font_family=_FONT,
                     transform=f"rotate(-90 14 {px(top + ph / 2)})"))


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
    from neuroheat.viz.drawing import px

    if not table:
        raise InputError("the layer-wise table is empty")
    rows = sorted(((_layer_key(k), v) for k, v in table.items()), key=lambda kv: kv[0])
    layers = [k for k, _ in rows]
    if len(set(layers)) != len(layers):
        raise InputError("the layer-wise table lists a layer twice")
    values = [float(v) for _, row in rows for s in splits
              if (v := (row or {}).get(s)) is not None]
    lo = -1.0 if values and min(values) < 0 else 0.0
    width = max(520, 110 + 170 + 36 * len(layers))
    height, left, right, top, bottom = 340, 60, 110, 36, 56
    pw, ph = width - left - right, height - top - bottom
    fig = _figure(width, height)

    def x_of(i: int) -> float:
        return left + (pw * i / (len(layers) - 1) if len(layers) > 1 else pw / 2)

    def y_of(v: float) -> float:
        return top + ph * (1.0 - (min(max(v, lo), 1.0) - lo) / (1.0 - lo))

    ticks = [lo + (1.0 - lo) * i / 4 for i in range(5)]
    _frame(fig, (left, top, pw, ph), title, "layer", ylabel, ticks, y_of)
    for i, layer in enumerate(layers):
        fig.add(fig.text(str(layer), insert=(px(x_of(i)), top + ph + 16), font_size=10,
                         text_anchor="middle", font_family=_FONT))
    for n, split in enumerate(splits):
        color = _SPLIT_COLORS.get(split, _PALETTE[n % len(_PALETTE)])
        group = fig.g(**{"class": "nh-series", "data-split": _safe(split)})
        pts = [(px(x_of(i)), px(y_of(float(v)))) for i, (_, row) in enumerate(rows)
               if (v := (row or {}).get(split)) is not None]
        if len(pts) > 1:
            group.add(fig.polyline(pts, fill="none", stroke=color, stroke_width=2))
        for p in pts:
            group.add(fig.circle(p, r=3, fill=color))
        fig.add(group)
        ly = top + 14 + 18 * n
        fig.add(fig.line((left + pw + 14, ly), (left + pw + 34, ly), stroke=color,
                         stroke_width=2))
        fig.add(fig.text(_safe(split), insert=(left + pw + 40, ly + 4), font_size=11,
                         font_family=_FONT))
    return fig


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


def _nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        c = lo if math.isfinite(lo) else 0.0
        lo, hi = c - 1.0, c + 1.0
    raw = (hi - lo) / max(1, count - 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    stop = math.ceil(hi / step) * step
    n = int(round((stop - start) / step))
    return [round(start + i * step, 12) for i in range(n + 1)]


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
    from neuroheat.viz.drawing import px

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
    ticks = _nice_ticks(float(finite.min()) if finite.size else 0.0,
                        float(finite.max()) if finite.size else 0.0)
    y_lo, y_hi = ticks[0], ticks[-1]

    col_w = 56 if kind == "box" else 64
    width = max(420, 60 + 30 + col_w * len(classes))
    height, left, right, top, bottom = 360, 60, 30, 36, 76
    pw, ph = width - left - right, height - top - bottom
    fig = _figure(width, height)

    def x_of(k: int) -> float:
        return left + pw * (k + 0.5) / len(classes)

    def y_of(v: float) -> float:
        return top + ph * (1.0 - (v - y_lo) / (y_hi - y_lo))

    _frame(fig, (left, top, pw, ph),
           title if title is not None else f"layer {int(layer)}, neuron {int(neuron)}",
           "class", "activation", ticks, y_of)
    half = 0.35 * pw / len(classes)
    rng = np.random.default_rng(seed)
    for k, (name, v, st) in enumerate(zip(classes, per_class, stats, strict=True)):
        color = _PALETTE[k % len(_PALETTE)]
        cx = x_of(k)
        group = fig.g(**{"class": "nh-class", "data-class-index": str(k), "data-n": str(len(v))})
        group.set_desc(title=_safe(name))
        if kind == "strip":
            if len(v) > max_points_per_class:
                v = v[np.sort(rng.choice(len(v), int(max_points_per_class), replace=False))]
            jitter = rng.uniform(-half, half, len(v))
            for x, y in zip(jitter, v, strict=True):
                if np.isfinite(y):
                    group.add(fig.circle((px(cx + x), px(y_of(y))), r=2, fill=color,
                                         fill_opacity=0.6))
        elif st["n"]:
            y1, y3 = y_of(st["q3"]), y_of(st["q1"])
            group.add(fig.line((px(cx), px(y_of(st["high"]))), (px(cx), px(y1)),
                               stroke="#333", stroke_width=1))
            group.add(fig.line((px(cx), px(y3)), (px(cx), px(y_of(st["low"]))),
                               stroke="#333", stroke_width=1))
            for w in ("low", "high"):
                yw = px(y_of(st[w]))
                group.add(fig.line((px(cx - half / 2), yw), (px(cx + half / 2), yw),
                                   stroke="#333", stroke_width=1))
            group.add(fig.rect((px(cx - half), px(y1)), (px(2 * half), px(max(y3 - y1, 0.5))),
                               fill=color, fill_opacity=0.35, stroke=color, stroke_width=1.5,
                               **{"class": "nh-box"}))
            ym = px(y_of(st["median"]))
            group.add(fig.line((px(cx - half), ym), (px(cx + half), ym), stroke="#111",
                               stroke_width=2, **{"class": "nh-median"}))
            outliers = v[(v < st["low"]) | (v > st["high"])]
            for y in outliers[:max_points_per_class]:
                group.add(fig.circle((px(cx), px(y_of(y))), r=2, fill="none", stroke=color))
        fig.add(group)
        label = fig.text(_safe(name), insert=(px(cx), top + ph + 14), font_size=10,
                         text_anchor="end", font_family=_FONT,
                         transform=f"rotate(-35 {px(cx)} {top + ph + 14})",
                         **{"class": "nh-class-label"})
        fig.add(label)
    fig.stats = dict(zip(classes, stats, strict=True))
    return fig
