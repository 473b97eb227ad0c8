"""Drawing of activation figures: stacked sentence blocks (each token a coloured box under its
glyphs), optional title, per-block labels and a colour bar. Shared by
:func:`~neuroheat.viz.visualize_sentences` and :func:`~neuroheat.viz.draw_neuron_card`.

Example:
    >>> from neuroheat.viz.text.layout import layout_tokens
    >>> style = RenderStyle()
    >>> lay = layout_tokens(["a", "b"], font_size=style.font_size)
    >>> dwg = draw_blocks([lay], [np.array([1.0, -1.0])], style.scale([1.0, -1.0]), None, style)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from neuroheat.viz.activations.style import RenderStyle
from neuroheat.viz.color.scales import ColorScale, composite_on_white, luminance
from neuroheat.viz.drawing import SVGFigure, px
from neuroheat.viz.text.glyphs import GlyphWriter, xml_safe
from neuroheat.viz.text.layout import TextLayout, layout_tokens

COLORBAR_STEPS = 64  # opaque steps of the colour bar


class ActivationDrawing(SVGFigure):
    """An activation figure; displays inline in Jupyter and saves to svg/png/pdf.

    ``layouts`` holds the :class:`TextLayout` of each sentence and ``offsets`` where each was
    drawn (x, y); ``scale`` is the :class:`ColorScale` used.
    """

    layouts: list[TextLayout]
    offsets: list[tuple[float, float]]
    scale: ColorScale


def format_value(v: float) -> str:
    """A value as a tick label or tooltip shows it: 3 significant digits, ``0`` for zero."""
    if v == 0:
        return "0"
    return f"{v:.3g}"


def draw_blocks(
    layouts: Sequence[TextLayout],
    arrays: Sequence[np.ndarray],
    scale: ColorScale,
    labels: Sequence[str | None] | None,
    style: RenderStyle,
    scales: Sequence[ColorScale] | None = None,
    highlights: Sequence[int | None] | None = None,
) -> ActivationDrawing:
    """Draw sentence blocks; ``scales`` gives each block its own scale (else ``scale``,
    which the colour bar always shows); ``highlights`` outlines one token per block."""
    fs = style.font_px
    rtl = layouts[0].rtl if layouts else False
    margin = style.margin_px
    title_lay, label_lays = _text_blocks(layouts, labels, style, rtl)
    bar_w = max(200.0, min(320.0, max((lay.width for lay in layouts), default=0.0)))
    content_w = max(
        [lay.width for lay in layouts]
        + [title_lay.width if title_lay else 0.0]
        + [lab.width for lab in label_lays if lab is not None]
        + [bar_w if style.colorbar else 0.0]
    )

    dwg = ActivationDrawing(size=(1, 1), profile="full", debug=False)
    writer = GlyphWriter(dwg, style.text_mode)
    body = dwg.g(id="neuroheat-figure")
    y = margin

    def x_for(width: float, right: bool = rtl) -> float:
        return margin + (content_w - width if right else 0.0)

    if title_lay is not None:
        g = dwg.g(**{"class": "nh-title"})
        writer.draw_layout(g, title_lay, x_for(title_lay.width), y, fill="#000")
        body.add(g)
        y += title_lay.height + 0.4 * fs
    offsets = []
    for k, (lay, arr) in enumerate(zip(layouts, arrays, strict=True)):
        lab = label_lays[k]
        if lab is not None:
            g = dwg.g(**{"class": "nh-label"})
            writer.draw_layout(g, lab, x_for(lab.width, lay.rtl), y, fill="#555")
            body.add(g)
            y += lab.height + 0.15 * fs
        ox = x_for(lay.width, lay.rtl)
        offsets.append((ox, y))
        sc = scales[k] if scales else scale
        mark = highlights[k] if highlights else None
        body.add(_sentence(dwg, writer, k, lay, arr, sc, ox, y, style.text_color, mark))
        y += lay.height + (0.6 * fs if k + 1 < len(layouts) else 0.0)
    if style.colorbar:
        y += 0.5 * fs
        y = _colorbar(dwg, writer, body, scale, x_for(bar_w), y, bar_w, fs, style.fonts)
    width = float(math.ceil(content_w + 2 * margin))  # whole pixels: same PNG size everywhere
    height = float(math.ceil(y + margin))
    writer.finish()
    if style.background is not None:
        dwg.add(dwg.rect(insert=(0, 0), size=(px(width), px(height)), fill=style.background))
    dwg.add(body)
    dwg["width"], dwg["height"] = px(width), px(height)
    dwg.viewbox(0, 0, px(width), px(height))
    text = " / ".join(" ".join(b.text for b in lay.boxes) for lay in layouts)
    dwg.set_desc(title=xml_safe(str(style.title) if style.title else text[:500]))
    dwg["role"] = "img"
    dwg["aria-label"] = xml_safe(text[:2000])
    dwg.layouts, dwg.offsets, dwg.scale = list(layouts), offsets, scale
    return dwg


def _text_blocks(
    layouts: Sequence[TextLayout], labels: Sequence[str | None] | None, style: RenderStyle,
    rtl: bool,
) -> tuple[TextLayout | None, list[TextLayout | None]]:
    """Layouts of the title and of each block's label (None where there is none)."""
    fs = style.font_px
    direction = "rtl" if rtl else "ltr"
    title_lay = (
        layout_tokens(str(style.title).split() or [""], font_size=fs * 1.1, fonts=style.fonts,
                      max_width=style.width, direction=direction)
        if style.title
        else None
    )
    if labels is None:
        return title_lay, [None] * len(layouts)
    small = dict(font_size=fs * 0.7, fonts=style.fonts, char_limit=None)
    label_lays = [
        None if lbl is None else
        layout_tokens(str(lbl).split() or [""], direction=direction, **small)
        for lbl in labels
    ]
    return title_lay, label_lays


def _sentence(dwg, writer: GlyphWriter, k: int, lay: TextLayout, arr: np.ndarray,
              sc: ColorScale, ox: float, y: float, text_color: str, mark: int | None):
    """The group of one sentence block: a box and the glyphs of every token."""
    sent = dwg.g(**{"class": "nh-sentence", "data-sentence": str(k)})
    for box in lay.boxes:
        a = float(arr[box.index])
        color, opacity = sc(a)
        tg = dwg.g(**{"class": "nh-token", "data-index": str(box.index),
                      "data-activation": repr(a)})
        tg.set_desc(title=xml_safe(f"{box.text} ({format_value(a)})"))
        if opacity > 0:
            rect = dwg.rect(
                insert=(px(box.x + ox), px(box.y + y)),
                size=(px(box.width), px(box.height)),
                fill=color,
            )
            if opacity < 1:
                rect["fill-opacity"] = px(opacity, 4)
            tg.add(rect)
        fill = text_color
        if fill == "auto":
            fill = "#ffffff" if luminance(sc.effective(a)) < 0.3 else "#000000"
        writer.draw(tg, box, ox, y, fill=fill)
        if mark == box.index:
            tg.add(dwg.rect(insert=(px(box.x + ox + 0.75), px(box.y + y + 0.75)),
                            size=(px(box.width - 1.5), px(box.height - 1.5)),
                            fill="none", stroke="#222222", stroke_width=1.5,
                            **{"class": "nh-highlight"}))
        sent.add(tg)
    return sent


def _colorbar(dwg, writer, body, scale: ColorScale, x: float, y: float, w: float,
              fs: float, fonts) -> float:
    """Draw a colour bar with end (and zero) ticks; returns the y below it."""
    g = dwg.g(**{"class": "nh-colorbar"})
    h = 0.6 * fs
    steps = COLORBAR_STEPS
    for i in range(steps):
        color, opacity = scale.at((i + 0.5) / steps)
        # Opaque (composited on white) and overlapping by a hair: no seams between steps.
        r = dwg.rect(insert=(px(x + w * i / steps), px(y)),
                     size=(px(w / steps + (0.3 if i + 1 < steps else 0)), px(h)),
                     fill=composite_on_white(color, opacity))
        g.add(r)
    g.add(dwg.rect(insert=(px(x), px(y)), size=(px(w), px(h)), fill="none", stroke="#444",
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
        lay = layout_tokens([format_value(v)], font_size=0.6 * fs, fonts=fonts, char_limit=None,
                            pad=0)
        tx = x + w * t - lay.width * (0 if t == 0 else 1 if t == 1 else 0.5)
        g.add(dwg.line(start=(px(x + w * t), px(y + h)), end=(px(x + w * t), px(y + h + 3)),
                       stroke="#444", stroke_width=0.5))
        writer.draw_layout(g, lay, tx, y + h + 3, fill="#333")
        below = max(below, y + h + 3 + lay.height)
    body.add(g)
    return below if math.isfinite(below) else y + h
