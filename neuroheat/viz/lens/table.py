"""The lens table as an SVG figure: layers (last on top) x positions, the top token per cell.

Text is shaped and drawn as glyph paths (:class:`~neuroheat.viz.text.GlyphWriter`), each cell
with a ``<title>`` (its top-K) escaped for XML; right-to-left inputs put position 0 on the right.

Example:
    >>> lens_table_svg(result.to_dict(), color="entropy").save("lens.pdf")   # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from neuroheat.viz.drawing import SVGFigure, px
from neuroheat.viz.lens.cells import lens_grid
from neuroheat.viz.text.glyphs import GlyphWriter, xml_safe
from neuroheat.viz.text.layout import TextLayout, layout_tokens


def fit(text: str, max_width: float, font_size: float, fonts: Any = None) -> TextLayout:
    """One line of ``text`` (bidi-aware), shortened with an ellipsis until it fits."""
    lay = layout_tokens([text or " "], font_size=font_size, fonts=fonts, pad=0.0,
                        direction="auto")
    s = text
    while lay.width > max_width and len(s) > 1:
        s = s[: max(1, int(len(s) * max_width / lay.width) - 1)]
        lay = layout_tokens([s + "\u2026"], font_size=font_size, fonts=fonts, pad=0.0,
                            direction="auto")
    return lay


def lens_table_svg(data: Mapping[str, Any], *, color: str | None = None,
                   direction: str = "auto", font_size: float = 11, cell_width: float = 64,
                   title: str | None = None, fonts: Any = None, text_mode: str = "paths"
                   ) -> SVGFigure:
    """The prediction-trajectory table of a lens result dict; ``save`` .svg/.png/.pdf.

    Example:
        >>> fig = lens_table_svg(res.to_dict(), color="target")   # doctest: +SKIP
    """
    grid = lens_grid(data, color, direction)
    fs, cw, ch = float(font_size), float(cell_width), 1.9 * float(font_size)
    n_cols, n_rows = len(grid.tokens), len(grid.rows)
    dwg = SVGFigure(size=(1, 1), profile="full", debug=False)
    writer = GlyphWriter(dwg, text_mode)
    body = dwg.g(id="neuroheat-figure")
    pad = fs
    label_w = 3.2 * fs
    y0 = pad
    if title:
        lay = fit(title, max(n_cols * cw, 200), 1.2 * fs, fonts)
        writer.draw_layout(body, lay, pad, y0, "#222222")
        y0 += lay.height + 0.6 * fs
    x0 = pad + label_w

    def col_x(t: int) -> float:
        return x0 + ((n_cols - 1 - t) if grid.rtl else t) * cw

    cells = dwg.g(**{"class": "nh-lens-cells"})
    for r, (layer, row) in enumerate(zip(grid.layers, grid.rows, strict=True)):
        y = y0 + r * ch
        lab = fit(str(layer), label_w - 6, fs, fonts)
        writer.draw_layout(body, lab, x0 - 6 - lab.width, y + (ch - lab.line_height) / 2,
                           "#333333")
        for t, cell in enumerate(row):
            x = col_x(t)
            g = dwg.g(**{"class": "nh-lens-cell"})
            tip = "\n".join(f"{name!r} {p:.3f}" for name, p in cell.top)
            g.set_desc(title=xml_safe(f"layer {layer}, position {t}: {grid.label} "
                                     f"{cell.value:.3f}\n{tip}"))
            g.add(dwg.rect(insert=(px(x), px(y)), size=(px(cw), px(ch)), fill=cell.fill,
                           stroke="#ffffff", stroke_width=1))
            lay = fit(cell.text, cw - 6, fs, fonts)
            writer.draw_layout(g, lay, x + (cw - lay.width) / 2, y + (ch - lay.line_height) / 2,
                               cell.ink)
            cells.add(g)
    body.add(cells)
    y = y0 + n_rows * ch + 0.4 * fs
    # input tokens under their columns, rotated so long tokens fit
    labels = [fit(tok, 7 * fs, fs, fonts) for tok in grid.tokens]
    col_h = max((lay.width for lay in labels), default=0.0) + 4
    for t, lay in enumerate(labels):
        cx = col_x(t) + cw / 2
        inner = dwg.g(transform=f"translate({px(cx)} {px(y)}) rotate(-90)")
        writer.draw_layout(inner, lay, -lay.width, -lay.line_height / 2, "#222222")
        g = dwg.g(**{"class": "nh-lens-token"})
        g.set_desc(title=xml_safe(grid.tokens[t]))
        g.add(inner)
        body.add(g)
    y += col_h + 0.8 * fs
    # colour bar
    bar_w = min(240.0, max(n_cols * cw, 120.0))
    steps = 48
    for k in range(steps):
        body.add(dwg.rect(insert=(px(x0 + k * bar_w / steps), px(y)),
                          size=(px(bar_w / steps + 0.5), px(0.8 * fs)),
                          fill=_at(grid.palette, k / (steps - 1))))
    for value, at in ((grid.vmin, 0.0), (grid.vmax, 1.0)):
        lay = fit(f"{value:.2f}", 5 * fs, 0.9 * fs, fonts)
        writer.draw_layout(body, lay, x0 + at * bar_w - (lay.width if at else 0),
                           y + 0.9 * fs, "#333333")
    lab = fit(grid.label, 20 * fs, 0.9 * fs, fonts)
    writer.draw_layout(body, lab, x0 + bar_w + 0.8 * fs, y, "#333333")
    height = y + 2.2 * fs + pad
    width = max(x0 + n_cols * cw, x0 + bar_w + 0.8 * fs + lab.width) + pad
    writer.finish()
    w, h = float(math.ceil(width)), float(math.ceil(height))
    dwg.add(dwg.rect(insert=(0, 0), size=(w, h), fill="#ffffff"))
    dwg.add(body)
    dwg["width"], dwg["height"] = w, h
    dwg.viewbox(0, 0, w, h)
    desc = f"lens: {n_rows} layers x {n_cols} tokens, coloured by {grid.label}"
    dwg.set_desc(title=xml_safe(desc))
    dwg["role"] = "img"
    dwg["aria-label"] = xml_safe(desc)
    dwg.grid = (x0, y0, cw, ch)  # origin and cell size, for tests
    dwg.rtl = grid.rtl
    return dwg


def _at(palette: list[str], t: float) -> str:
    from neuroheat.viz.color.scales import interpolate

    return interpolate(palette, t)
