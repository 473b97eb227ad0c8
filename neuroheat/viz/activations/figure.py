"""NeuroX-compatible activation heatmaps of text, with real text layout, as SVG.

Example:
    >>> dwg = visualize_activations(["The", "cat", "sat"], [0.1, -0.8, 0.5])
    >>> dwg.tostring().startswith("<svg")
    True
    >>> dwg.save_as("figure.pdf")   # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import svgwrite

from neuroheat.errors import InputError
from neuroheat.viz.colors import ColorScale, composite_on_white, luminance
from neuroheat.viz.layout import TextLayout, layout_tokens
from neuroheat.viz.svg_glyphs import GlyphWriter, xml_safe

FILTERS = ("top_tokens",)
OPTIONS = {
    "vmin": "lower end of the colour scale (share it across figures)",
    "vmax": "upper end of the colour scale",
    "cmap": "None (NeuroX colours), a colour map name, or a list of hex colours",
    "diverging": "treat a custom colour list as diverging around 0",
    "colorbar": "draw a colour bar under the text (default False)",
    "title": "a title above the figure",
    "labels": "one label per sentence (visualize_sentences)",
    "width": "wrap lines wider than this many pixels",
    "text_mode": "'paths' (default, exact everywhere) or 'embed' (text + font subset)",
    "fonts": "font files to use before the default fonts",
    "text_color": "'auto' (black, white on dark colours) or a hex colour",
    "background": "background colour (default 'white'; None for transparent)",
    "margin": "margin around the figure in pixels (default font_size / 2)",
    "token_gap": "pixels between adjacent boxes (default 0: boxes touch, as in NeuroX)",
}


class ActivationDrawing(svgwrite.Drawing):
    """An ``svgwrite.Drawing`` that displays inline in Jupyter and saves to svg/png/pdf.

    ``layouts`` holds the :class:`TextLayout` of each sentence and ``offsets`` where each was
    drawn (x, y); ``scale`` is the :class:`ColorScale` used.
    """

    layouts: list[TextLayout]
    offsets: list[tuple[float, float]]
    scale: ColorScale

    def _repr_svg_(self) -> str:
        return self.tostring()

    def save_as(self, path: str | Path, *, scale: float = 2.0) -> Path:
        """Write the figure; the format follows the suffix: .svg, .png or .pdf (vector)."""
        from neuroheat.viz.export import save

        return save(self, path, scale=scale)


def _as_activations(activations: Any, name: str = "activations") -> np.ndarray:
    if hasattr(activations, "detach"):  # a torch tensor, without importing torch
        activations = activations.detach().cpu().numpy()
    try:
        arr = np.asarray(activations, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a list or array of numbers") from None
    if arr.ndim != 1:
        raise InputError(
            f"{name} must be one value per token (1-D), got shape {arr.shape}; "
            "select one neuron, e.g. acts[:, layer, neuron]"
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = np.flatnonzero(bad)[:5].tolist()
        raise InputError(
            f"{name} contain NaN or infinite values at positions {idx}; "
            "replace them (e.g. np.nan_to_num) before rendering"
        )
    return arr


def _apply_filter(arr: np.ndarray, filter_fn: str | Callable | None) -> np.ndarray:
    if filter_fn is None:
        return arr
    if isinstance(filter_fn, str):
        if filter_fn != "top_tokens":
            raise InputError(
                f"unknown filter_fn {filter_fn!r}; use one of {FILTERS} or a callable"
            )
        if arr.size == 0:
            return arr
        top = np.abs(arr).max()
        return np.where(np.abs(arr) > 0.8 * top, arr, 0.0)
    if not callable(filter_fn):
        raise InputError("filter_fn must be None, 'top_tokens' or a callable")
    out = _as_activations(filter_fn(arr.copy()), "filter_fn's result")
    if out.shape != arr.shape:
        raise InputError(
            f"filter_fn returned {out.size} values for {arr.size} activations; "
            "it must return one value per activation"
        )
    return out


def _check(tokens: Sequence[str], arr: np.ndarray) -> None:
    if isinstance(tokens, str):
        raise InputError("tokens must be a list of strings, not one string; use text.split()")
    if len(tokens) != arr.size:
        raise InputError(
            f"got {len(tokens)} tokens but {arr.size} activations; pass one activation per token"
        )


def visualize_activations(
    tokens: Sequence[str],
    activations: Sequence[float] | np.ndarray,
    darken: int = 2,
    colors: Sequence[str] = ("#d35f5f", "#00aad4"),
    text_direction: str = "ltr",
    char_limit: int | None = 60,
    font_size: float = 20,
    filter_fn: str | Callable | None = None,
    **options: Any,
) -> ActivationDrawing:
    """Draw ``tokens`` with backgrounds coloured by one neuron's ``activations`` (NeuroX API).

    Red (``colors[0]``) for negative values, blue (``colors[1]``) for positive, opacity
    ``|a| / max |a|``; ``darken`` stacks the colour that many times. ``filter_fn="top_tokens"``
    keeps only ``|a| > 0.8 max |a|``; a callable gets the activations and must return as many
    values. More ``options``: see :data:`OPTIONS` (``vmin``, ``vmax``, ``cmap``, ``colorbar``,
    ``title``, ``width``, ``text_mode``, ...). ``char_limit=None`` wraps by ``width`` only.

    Example:
        >>> dwg = visualize_activations(["a", "b"], [1.0, -1.0], colorbar=True, title="n 7")
    """
    return visualize_sentences(
        [tokens],
        [activations],
        darken=darken,
        colors=colors,
        text_direction=text_direction,
        char_limit=char_limit,
        font_size=font_size,
        filter_fn=filter_fn,
        **options,
    )


def visualize_sentences(
    sentences: Sequence[Sequence[str]],
    activations: Sequence[Sequence[float] | np.ndarray],
    darken: int = 2,
    colors: Sequence[str] = ("#d35f5f", "#00aad4"),
    text_direction: str = "ltr",
    char_limit: int | None = 60,
    font_size: float = 20,
    filter_fn: str | Callable | None = None,
    **options: Any,
) -> ActivationDrawing:
    """Several sentences, one neuron, one shared colour scale, stacked in one figure.

    ``labels=[...]`` puts a small label above each sentence. Other arguments as
    :func:`visualize_activations`.

    Example:
        >>> dwg = visualize_sentences([["a", "b"], ["c"]], [[1, 2], [-3]], labels=["s1", "s2"])
    """
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise InputError(
            f"unknown option(s) {', '.join(unknown)}; valid options: {', '.join(OPTIONS)}"
        )
    if len(sentences) != len(activations):
        raise InputError(
            f"got {len(sentences)} sentences but {len(activations)} activation lists"
        )
    arrays = []
    for toks, acts in zip(sentences, activations, strict=True):
        arr = _as_activations(acts)
        _check(toks, arr)
        arrays.append(_apply_filter(arr, filter_fn))
    allv = np.concatenate(arrays) if arrays else np.zeros(0)
    scale = ColorScale(
        allv,
        colors=colors,
        darken=darken,
        vmin=options.get("vmin"),
        vmax=options.get("vmax"),
        cmap=options.get("cmap"),
        diverging=options.get("diverging"),
    )
    labels = options.get("labels")
    if labels is not None and len(labels) != len(sentences):
        raise InputError(f"got {len(labels)} labels for {len(sentences)} sentences")
    fs = float(font_size) if font_size else 0.0
    common = dict(
        font_size=font_size,
        direction=text_direction,
        max_width=options.get("width"),
        char_limit=char_limit,
        fonts=options.get("fonts"),
        gap=float(options.get("token_gap") or 0.0),
    )
    layouts = [layout_tokens(list(t), **common) for t in sentences]
    return _render(layouts, arrays, scale, labels, options, fs)


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    return f"{v:.3g}"


def _render(layouts, arrays, scale: ColorScale, labels, options, fs: float,
            scales: list[ColorScale] | None = None,
            highlights: list[int | None] | None = None) -> ActivationDrawing:
    """Draw sentence blocks; ``scales`` gives each block its own scale (else ``scale``,
    which the colour bar always shows); ``highlights`` outlines one token per block."""
    rtl = layouts[0].rtl if layouts else False
    margin = float(options.get("margin") if options.get("margin") is not None else fs / 2)
    text_color = options.get("text_color") or "auto"
    fonts = options.get("fonts")
    small = dict(font_size=fs * 0.7, fonts=fonts, char_limit=None)
    title = options.get("title")
    title_lay = (
        layout_tokens(str(title).split() or [""], font_size=fs * 1.1, fonts=fonts,
                      max_width=options.get("width"), direction="rtl" if rtl else "ltr")
        if title
        else None
    )
    label_lays = [
        None if lbl is None else
        layout_tokens(str(lbl).split() or [""], direction="rtl" if rtl else "ltr", **small)
        for lbl in labels
    ] if labels is not None else [None] * len(layouts)
    bar_w = max(200.0, min(320.0, max((lay.width for lay in layouts), default=0.0)))
    show_bar = bool(options.get("colorbar"))
    content_w = max(
        [lay.width for lay in layouts]
        + [title_lay.width if title_lay else 0.0]
        + [lab.width for lab in label_lays if lab is not None]
        + [bar_w if show_bar else 0.0]
    )

    dwg = ActivationDrawing(size=(1, 1), profile="full", debug=False)
    writer = GlyphWriter(dwg, options.get("text_mode") or "paths")
    body = dwg.g(id="neuroheat-figure")
    y = margin

    def x_for(width: float, right: bool = rtl) -> float:
        return margin + (content_w - width if right else 0.0)

    if title_lay is not None:
        g = dwg.g(**{"class": "nh-title"})
        for box in title_lay.boxes:
            writer.draw(g, box, x_for(title_lay.width), y, fill="#000")
        body.add(g)
        y += title_lay.height + 0.4 * fs
    offsets = []
    for k, (lay, arr) in enumerate(zip(layouts, arrays, strict=True)):
        lab = label_lays[k]
        if lab is not None:
            g = dwg.g(**{"class": "nh-label"})
            for box in lab.boxes:
                writer.draw(g, box, x_for(lab.width, lay.rtl), y, fill="#555")
            body.add(g)
            y += lab.height + 0.15 * fs
        ox = x_for(lay.width, lay.rtl)
        offsets.append((ox, y))
        sent = dwg.g(**{"class": "nh-sentence", "data-sentence": str(k)})
        for box in lay.boxes:
            a = float(arr[box.index])
            sc = scales[k] if scales else scale
            color, opacity = sc(a)
            tg = dwg.g(**{"class": "nh-token", "data-index": str(box.index),
                          "data-activation": repr(a)})
            tg.set_desc(title=xml_safe(f"{box.text} ({_fmt(a)})"))
            if opacity > 0:
                rect = dwg.rect(
                    insert=(_r(box.x + ox), _r(box.y + y)),
                    size=(_r(box.width), _r(box.height)),
                    fill=color,
                )
                if opacity < 1:
                    rect["fill-opacity"] = _r(opacity, 4)
                tg.add(rect)
            fill = text_color
            if fill == "auto":
                fill = "#ffffff" if luminance(sc.effective(a)) < 0.3 else "#000000"
            writer.draw(tg, box, ox, y, fill=fill)
            if highlights and highlights[k] == box.index:
                tg.add(dwg.rect(insert=(_r(box.x + ox + 0.75), _r(box.y + y + 0.75)),
                                size=(_r(box.width - 1.5), _r(box.height - 1.5)),
                                fill="none", stroke="#222222", stroke_width=1.5,
                                **{"class": "nh-highlight"}))
            sent.add(tg)
        body.add(sent)
        y += lay.height + (0.6 * fs if k + 1 < len(layouts) else 0.0)
    if show_bar:
        y += 0.5 * fs
        y = _colorbar(dwg, writer, body, scale, x_for(bar_w), y, bar_w, fs, fonts)
    width = float(math.ceil(content_w + 2 * margin))  # whole pixels: same PNG size everywhere
    height = float(math.ceil(y + margin))
    writer.finish()
    if options.get("background", "white") is not None:
        dwg.add(dwg.rect(insert=(0, 0), size=(_r(width), _r(height)),
                         fill=options.get("background", "white")))
    dwg.add(body)
    dwg["width"], dwg["height"] = _r(width), _r(height)
    dwg.viewbox(0, 0, _r(width), _r(height))
    text = " / ".join(" ".join(b.text for b in lay.boxes) for lay in layouts)
    dwg.set_desc(title=xml_safe(str(title) if title else text[:500]))
    dwg["role"] = "img"
    dwg["aria-label"] = xml_safe(text[:2000])
    dwg.layouts, dwg.offsets, dwg.scale = layouts, offsets, scale
    return dwg


def _r(v: float, nd: int = 2) -> float:
    return round(float(v), nd)


def _colorbar(dwg, writer, body, scale: ColorScale, x: float, y: float, w: float,
              fs: float, fonts) -> float:
    """Draw a colour bar with end (and zero) ticks; returns the y below it."""
    g = dwg.g(**{"class": "nh-colorbar"})
    h = 0.6 * fs
    steps = 64
    for i in range(steps):
        color, opacity = scale.at((i + 0.5) / steps)
        # Opaque (composited on white) and overlapping by a hair: no seams between steps.
        r = dwg.rect(insert=(_r(x + w * i / steps), _r(y)),
                     size=(_r(w / steps + (0.3 if i + 1 < steps else 0)), _r(h)),
                     fill=composite_on_white(color, opacity))
        g.add(r)
    g.add(dwg.rect(insert=(_r(x), _r(y)), size=(_r(w), _r(h)), fill="none", stroke="#444",
                   stroke_width=0.5))
    if scale.is_neurox or scale.diverging:
        lo, hi = -scale.limit, scale.limit
    else:
        lo, hi = scale.vmin, scale.vmax
    ticks = [(0.0, lo), (1.0, hi)]
    if lo < 0 < hi:
        ticks.insert(1, (scale.position(0.0), 0.0))
    below = y + h
    for t, v in ticks:
        lay = layout_tokens([_fmt(v)], font_size=0.6 * fs, fonts=fonts, char_limit=None, pad=0)
        tx = x + w * t - lay.width * (0 if t == 0 else 1 if t == 1 else 0.5)
        g.add(dwg.line(start=(_r(x + w * t), _r(y + h)), end=(_r(x + w * t), _r(y + h + 3)),
                       stroke="#444", stroke_width=0.5))
        for box in lay.boxes:
            writer.draw(g, box, tx, y + h + 3, fill="#333")
        below = max(below, y + h + 3 + lay.height)
    body.add(g)
    return below if math.isfinite(below) else y + h
