"""Probing charts drawn from plain numbers: a line per split over layers, a line per neuron
selection over kept fractions, and one column of values per class (strip or box plot).

Every chart shares one frame (white background, title, axes, a horizontal grid with tick
labels, axis labels) and returns an :class:`~neuroheat.viz.drawing.SVGFigure`
(``.save("fig.svg" | ".png" | ".pdf")``, inline in Jupyter). Label text comes from data and
is XML-escaped (and stripped of characters XML cannot hold). :mod:`neuroheat.probing.figures`
and :func:`neuroheat.probing.ablations.ablation_figure` prepare the numbers.

Example:
    >>> fig = layer_lines_chart([0, 1], {"train": [0.8, 0.9], "test": [0.7, None]})
    >>> fig.save("layers.svg")   # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from neuroheat.viz.drawing import SVGFigure, px
from neuroheat.viz.text.glyphs import xml_safe

__all__ = ["PALETTE", "ablation_chart", "class_columns_chart", "layer_lines_chart",
           "nice_ticks"]

_SPLIT_COLORS = {"train": "#1f77b4", "test": "#d62728"}
#: one colour per class or series, in order (matplotlib's tab10)
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
_SELECTION_COLORS = {"top": "#1f77b4", "random": "#7f7f7f", "bottom": "#d62728"}
_FONT = "sans-serif"


def _safe(text: Any) -> str:
    return xml_safe(str(text))


def _figure(width: int, height: int) -> SVGFigure:
    # debug=False: svgwrite's validator refuses data-* attributes.
    return SVGFigure(size=(width, height), debug=False)


def _frame(fig: Any, box: tuple[float, float, float, float], title: str, xlabel: str,
           ylabel: str, y_ticks: list[float], y_of: Any) -> None:
    """White background, title, axes, horizontal grid with tick labels, axis labels — the
    layout of :func:`ablation_chart`."""
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


def layer_lines_chart(layers: Sequence[int], series: dict[str, Sequence[float | None]], *,
                      title: str = "layer-wise probing",
                      ylabel: str = "accuracy") -> SVGFigure:
    """One line with points per entry of ``series`` (``{split: [value per layer]}``, ``None``
    left out) over ``layers`` (x, in the given order), values on y (0..1; -1..1 when a value
    is negative), and a legend. Lines are ``<g class="nh-series" data-split="...">``.

    Example:
        >>> layer_lines_chart([0, 1], {"test": [0.5, 0.75]}).tostring()[:4]
        '<svg'
    """
    values = [float(v) for vs in series.values() for v in vs if v is not None]
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
    for n, (split, vs) in enumerate(series.items()):
        color = _SPLIT_COLORS.get(split, PALETTE[n % len(PALETTE)])
        group = fig.g(**{"class": "nh-series", "data-split": _safe(split)})
        pts = [(px(x_of(i)), px(y_of(float(v)))) for i, v in enumerate(vs) if v is not None]
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


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering ``lo..hi`` (steps of 1, 2, 2.5 or 5 times
    a power of ten).

    Example:
        >>> nice_ticks(0.13, 0.92)
        [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    """
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


def class_columns_chart(classes: Sequence[str], per_class: Sequence[np.ndarray],
                        stats: Sequence[dict[str, Any]], *, value_range: tuple[float, float],
                        kind: str = "strip", max_points_per_class: int = 200, seed: int = 0,
                        title: str = "", ylabel: str = "activation") -> SVGFigure:
    """One column per class (its name as the tick label) of that class's values
    ``per_class[k]``, y ticks covering ``value_range``. ``kind="strip"``: at most
    ``max_points_per_class`` points per class (a seeded subsample), jittered sideways with
    ``seed``; ``kind="box"``: the box, median and whiskers of ``stats[k]`` (``n``, ``q1``,
    ``median``, ``q3``, ``low``, ``high``) and the values outside the whiskers. Columns are
    ``<g class="nh-class" data-class-index="k">``; the same arguments give the same bytes.

    Example:
        >>> v = [np.array([0.1, 0.5]), np.array([1.0])]
        >>> st = [{"n": 2, "q1": 0.2, "median": 0.3, "q3": 0.4, "low": 0.1, "high": 0.5},
        ...       {"n": 1, "q1": 1.0, "median": 1.0, "q3": 1.0, "low": 1.0, "high": 1.0}]
        >>> class_columns_chart(["a", "b"], v, st, value_range=(0.1, 1.0), kind="box")  # doctest: +ELLIPSIS
        <neuroheat.viz.drawing.SVGFigure object at ...>
    """
    ticks = nice_ticks(*value_range)
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

    _frame(fig, (left, top, pw, ph), title, "class", ylabel, ticks, y_of)
    half = 0.35 * pw / len(classes)
    rng = np.random.default_rng(seed)
    for k, (name, v, st) in enumerate(zip(classes, per_class, stats, strict=True)):
        color = PALETTE[k % len(PALETTE)]
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
            _box(fig, group, st, v, cx, half, y_of, color, max_points_per_class)
        fig.add(group)
        label = fig.text(_safe(name), insert=(px(cx), top + ph + 14), font_size=10,
                         text_anchor="end", font_family=_FONT,
                         transform=f"rotate(-35 {px(cx)} {top + ph + 14})",
                         **{"class": "nh-class-label"})
        fig.add(label)
    return fig


def _box(fig: Any, group: Any, st: dict[str, Any], v: np.ndarray, cx: float, half: float,
         y_of: Any, color: str, max_points: int) -> None:
    """A box plot of one class: whiskers, box, median line, outliers as hollow points."""
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
    for y in outliers[:max_points]:
        group.add(fig.circle((px(cx), px(y_of(y))), r=2, fill="none", stroke=color))


def ablation_chart(keys: Sequence[str], series: dict[str, Sequence[float | None]],
                   sizes: dict[str, int] | None = None, *, title: str = "ablation",
                   ylabel: str = "test accuracy") -> SVGFigure:
    """Accuracy (0..1, y) against the kept fraction (``keys``, fractions as strings, evenly
    spaced in order; ``sizes`` adds the neuron counts to their labels): one line per entry of
    ``series`` (``{"top" | "random" | "bottom": [value per key]}``, ``None`` left out).

    Example:
        >>> ablation_chart(["0.5", "1.0"], {"top": [0.6, 0.9]}).tostring()[:4]
        '<svg'
    """
    width, height, left, right, top, bottom = 520, 340, 60, 110, 36, 56
    pw, ph = width - left - right, height - top - bottom
    fig = SVGFigure(size=(width, height))
    fig.add(fig.rect((0, 0), (width, height), fill="white"))
    fig.add(fig.text(title, insert=(left, 22), font_size=14, font_family="sans-serif"))

    def x_of(i: int) -> float:
        return left + (pw * i / (len(keys) - 1) if len(keys) > 1 else pw / 2)

    def y_of(v: float) -> float:
        return top + ph * (1.0 - min(max(v, 0.0), 1.0))

    axes = fig.g(stroke="#333", stroke_width=1)
    axes.add(fig.line((left, top), (left, top + ph)))
    axes.add(fig.line((left, top + ph), (left + pw, top + ph)))
    fig.add(axes)
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = px(y_of(t))
        fig.add(fig.line((left, y), (left + pw, y), stroke="#ddd", stroke_width=0.5))
        fig.add(fig.text(f"{t:g}", insert=(left - 8, y + 4), font_size=10,
                         text_anchor="end", font_family="sans-serif"))
    for i, key in enumerate(keys):
        label = f"{float(key) * 100:g}%" + (f" ({sizes[key]})" if sizes and key in sizes else "")
        fig.add(fig.text(label, insert=(px(x_of(i)), top + ph + 16), font_size=10,
                         text_anchor="middle", font_family="sans-serif"))
    fig.add(fig.text("neurons kept", insert=(left + pw / 2, height - 12), font_size=11,
                     text_anchor="middle", font_family="sans-serif"))
    fig.add(fig.text(ylabel, insert=(14, top + ph / 2), font_size=11, text_anchor="middle",
                     font_family="sans-serif", transform=f"rotate(-90 14 {top + ph / 2})"))
    for n, (name, values) in enumerate(series.items()):
        pts = [(px(x_of(i)), px(y_of(float(v)))) for i, v in enumerate(values) if v is not None]
        color = _SELECTION_COLORS.get(name, PALETTE[n % len(PALETTE)])
        if len(pts) > 1:
            fig.add(fig.polyline(pts, fill="none", stroke=color, stroke_width=2))
        for p in pts:
            fig.add(fig.circle(p, r=3, fill=color))
        ly = top + 14 + 18 * n
        fig.add(fig.line((left + pw + 14, ly), (left + pw + 34, ly), stroke=color,
                         stroke_width=2))
        fig.add(fig.text(name, insert=(left + pw + 40, ly + 4), font_size=11,
                         font_family="sans-serif"))
    return fig
