"""Direct logit attribution as a horizontal bar chart (vector SVG, for papers).

One bar per component (``embed``, ``attn_out.l``, ``mlp_out.l``, the bias term), then the top
neurons; positive values (towards the answer) in blue, negative in red, NeuroX's colours.

Example:
    >>> dla_bars_svg(result.to_dict()).save("dla.pdf")   # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from neuroheat.errors import InputError
from neuroheat.viz.color.scales import NEUROX_COLORS
from neuroheat.viz.drawing import SVGFigure, px
from neuroheat.viz.lens.table import fit
from neuroheat.viz.text.glyphs import GlyphWriter, xml_safe


def _rows(data: Mapping[str, Any]) -> list[tuple[str, float, str]]:
    if "components" not in data:
        raise InputError("DLA data has no 'components': pass a DLAResult's to_dict()")
    rows = [(str(c["name"]), float(c["value"]), "component") for c in data["components"]]
    if "bias" in data:
        rows.append(("bias", float(data["bias"]), "component"))
    rows += [(str(n["unit"]), float(n["value"]), "neuron") for n in data.get("neurons") or []]
    return rows


def dla_bars_svg(data: Mapping[str, Any], *, font_size: float = 11, bar_width: float = 320,
                 title: str | None = None, fonts: Any = None, text_mode: str = "paths"
                 ) -> SVGFigure:
    """Bars of a DLA result dict (keys of :class:`~neuroheat.lens.DLAResult`).

    Example:
        >>> dla_bars_svg(res.to_dict(), title="Paris vs Rome")   # doctest: +SKIP
    """
    rows = _rows(data)
    fs = float(font_size)
    dwg = SVGFigure(size=(1, 1), profile="full", debug=False)
    writer = GlyphWriter(dwg, text_mode)
    body = dwg.g(id="neuroheat-figure")
    pad, rh = fs, 1.6 * fs
    if title is None:
        foil = data.get("foil")
        what = f"{data.get('answer')!r}" + (f" \u2212 {foil!r}" if foil is not None else "")
        title = f"direct logit attribution of {what} at position {data.get('position')}"
    lay = fit(title, bar_width + 12 * fs, 1.1 * fs, fonts)
    writer.draw_layout(body, lay, pad, pad, "#222222")
    y = pad + lay.height + 0.8 * fs
    labels = [fit(name, 9 * fs, fs, fonts) for name, _, _ in rows]
    label_w = max((lab.width for lab in labels), default=0.0) + 8
    limit = max((abs(v) for _, v, _ in rows), default=0.0) or 1.0
    # room between the labels and the bars for the numbers written left of negative bars
    x0 = pad + label_w + (4 * fs if any(v < 0 for _, v, _ in rows) else 0.0)
    zero = x0 + bar_width / 2
    half = bar_width / 2
    prev = None
    bars = dwg.g(**{"class": "nh-dla-bars"})
    for (name, value, kind), lab in zip(rows, labels, strict=True):
        if kind != prev and prev is not None:  # a gap and a rule between groups
            y += 0.5 * fs
            bars.add(dwg.line(start=(px(pad), px(y - 0.25 * fs)),
                              end=(px(x0 + bar_width), px(y - 0.25 * fs)),
                              stroke="#dddddd", stroke_width=1))
        prev = kind
        g = dwg.g(**{"class": f"nh-dla-{kind}"})
        g.set_desc(title=xml_safe(f"{name}: {value:.6g}"))
        w = abs(value) / limit * half
        x = zero if value >= 0 else zero - w
        g.add(dwg.rect(insert=(px(x), px(y + 0.15 * rh)), size=(px(w), px(0.7 * rh)),
                       fill=NEUROX_COLORS[1] if value >= 0 else NEUROX_COLORS[0]))
        writer.draw_layout(g, lab, x0 - 6 - lab.width, y + (rh - lab.line_height) / 2,
                           "#222222")
        num = fit(f"{value:+.3g}", 6 * fs, 0.85 * fs, fonts)
        nx = zero + w + 4 if value >= 0 else zero - w - 4 - num.width
        writer.draw_layout(g, num, nx, y + (rh - num.line_height) / 2, "#555555")
        bars.add(g)
        y += rh
    body.add(bars)
    body.add(dwg.line(start=(px(zero), px(pad + lay.height + 0.6 * fs)), end=(px(zero), px(y)),
                      stroke="#444444", stroke_width=1))
    note = f"logit {'difference ' if data.get('foil') is not None else ''}" \
           f"{float(data.get('logit', math.nan)):.4g}"
    if data.get("softcap"):
        note += f" (before soft-capping at {float(data['softcap']):g})"
    lay2 = fit(note, bar_width + 12 * fs, 0.9 * fs, fonts)
    writer.draw_layout(body, lay2, pad, y + 0.6 * fs, "#333333")
    height = y + 0.6 * fs + lay2.height + pad
    width = max(x0 + bar_width + 5 * fs, pad + lay.width) + pad
    writer.finish()
    w, h = float(math.ceil(width)), float(math.ceil(height))
    dwg.add(dwg.rect(insert=(0, 0), size=(w, h), fill="#ffffff"))
    dwg.add(body)
    dwg["width"], dwg["height"] = w, h
    dwg.viewbox(0, 0, w, h)
    dwg.set_desc(title=xml_safe(title))
    dwg["role"] = "img"
    dwg["aria-label"] = xml_safe(title)
    return dwg
