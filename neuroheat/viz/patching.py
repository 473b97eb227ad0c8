"""The activation-patching grid as an SVG figure: sites (the last layer on top) x positions,
each cell coloured by its score (blue: the patch restores the clean metric, red: it moves the
other way; NeuroX's colours) with the value written in it. Drawn from a PATCH.json dict.

This module imports no model, analysis or intervention code.

Example:
    >>> patch_grid_svg(result.to_dict()).save("patch.svg")   # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from neuroheat.errors import InputError
from neuroheat.viz.color.scales import NEUROX_COLORS, interpolate, luminance
from neuroheat.viz.drawing import SVGFigure, px
from neuroheat.viz.lens.table import fit
from neuroheat.viz.text.glyphs import GlyphWriter, xml_safe

__all__ = ["patch_grid_svg"]


def _grid(data: Mapping[str, Any], value: str) -> tuple[list[str], int, dict]:
    rows = [r for r in data.get("results") or [] if r.get("site") is not None]
    if not rows:
        raise InputError("no grid entries to draw: pass the to_dict() of a --grid patching "
                         "result")
    sites = list(dict.fromkeys(r["site"] for r in rows))
    width = max(int(r["position"]) for r in rows) + 1
    cells = {(r["site"], int(r["position"])): r.get(value) for r in rows}
    return sites, width, cells


def patch_grid_svg(data: Mapping[str, Any], *, value: str = "score",
                   tokens: Sequence[str] | None = None, font_size: float = 10,
                   cell_width: float = 40, title: str | None = None, fonts: Any = None,
                   text_mode: str = "paths") -> SVGFigure:
    """A heatmap of a grid patching result (``value``: ``score`` or ``effect``); ``tokens``
    label the positions (else their numbers).

    Example:
        >>> fig = patch_grid_svg(res.to_dict(), value="effect")   # doctest: +SKIP
    """
    if value not in ("score", "effect"):
        raise InputError(f"value must be 'score' or 'effect', not {value!r}")
    sites, width, cells = _grid(data, value)
    limit = max((abs(v) for v in cells.values() if v is not None), default=0.0) or 1.0
    red, blue = NEUROX_COLORS
    fs, cw, ch = float(font_size), float(cell_width), 1.9 * float(font_size)
    dwg = SVGFigure(size=(1, 1), profile="full", debug=False)
    writer = GlyphWriter(dwg, text_mode)
    body = dwg.g(id="neuroheat-figure")
    pad, label_w = fs, 6 * fs
    head = title if title is not None else f"patching {data.get('metric', '')}: {value}"
    lay = fit(head, max(width * cw, 200), 1.1 * fs, fonts)
    writer.draw_layout(body, lay, pad, pad, "#222222")
    y0, x0 = pad + lay.height + 0.6 * fs, pad + label_w
    for r, site in enumerate(reversed(sites)):
        y = y0 + r * ch
        lab = fit(site, label_w - 6, fs, fonts)
        writer.draw_layout(body, lab, x0 - 6 - lab.width, y + (ch - lab.line_height) / 2,
                           "#333333")
        for t in range(width):
            v = cells.get((site, t))
            fill = "#eeeeee" if v is None else interpolate(
                ("#ffffff", blue if v >= 0 else red), abs(v) / limit)
            g = dwg.g(**{"class": "nh-patch-cell", "data-site": site, "data-position": str(t)})
            g.set_desc(title=xml_safe(f"{site}, position {t}: {value} "
                                      f"{'null' if v is None else f'{v:.4f}'}"))
            g.add(dwg.rect(insert=(px(x0 + t * cw), px(y)), size=(px(cw), px(ch)), fill=fill,
                           stroke="#ffffff", stroke_width=1))
            text = fit("-" if v is None else f"{v:.2f}", cw - 4, 0.9 * fs, fonts)
            ink = "#ffffff" if luminance(fill) < 0.35 else "#111111"
            writer.draw_layout(g, text, x0 + t * cw + (cw - text.width) / 2,
                               y + (ch - text.line_height) / 2, ink)
            body.add(g)
    y = y0 + len(sites) * ch + 0.3 * fs
    labels = list(tokens) if tokens is not None and len(tokens) == width else \
        [str(t) for t in range(width)]
    for t, name in enumerate(labels):
        lab = fit(name, cw - 2, 0.9 * fs, fonts)
        writer.draw_layout(body, lab, x0 + t * cw + (cw - lab.width) / 2, y, "#333333")
    writer.finish()
    w = float(math.ceil(max(x0 + width * cw, pad + lay.width) + pad))
    h = float(math.ceil(y + 1.6 * fs + pad))
    dwg.add(dwg.rect(insert=(0, 0), size=(w, h), fill="#ffffff"))
    dwg.add(body)
    dwg["width"], dwg["height"] = w, h
    dwg.viewbox(0, 0, w, h)
    desc = f"patching grid: {len(sites)} sites x {width} positions, coloured by {value}"
    dwg.set_desc(title=xml_safe(desc))
    dwg["role"] = "img"
    dwg["aria-label"] = xml_safe(desc)
    return dwg
