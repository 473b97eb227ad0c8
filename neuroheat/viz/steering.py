"""Figures of a steering result, drawn from plain data (a ``SteerResult.to_dict()``, with an
optional ``tokens`` entry ``{"default": [...], "steered": [...]}`` of token texts; without it
the cells show token ids):

- :func:`steering_svg`: the default and the steered continuation as two rows of token cells,
  each steered cell shaded by KL(p_default ‖ p_steered) of its step, the values written below;
- :func:`steering_html`: the same as an offline page (strict CSP, no script).

This module imports no model, analysis or intervention code.

Example:
    >>> steering_svg(result.to_dict()).save("steer.svg")   # doctest: +SKIP
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

from neuroheat.errors import InputError
from neuroheat.viz.color.scales import interpolate
from neuroheat.viz.drawing import SVGFigure, px
from neuroheat.viz.html.page import HTMLPage
from neuroheat.viz.lens.table import fit
from neuroheat.viz.text.glyphs import GlyphWriter, xml_safe

__all__ = ["steering_html", "steering_svg"]

PALETTE = ("#ffffff", "#d35f5f")  # NeuroX's red for a large KL


def _rows(data: Mapping[str, Any]) -> tuple[list[str], list[str], list[float | None]]:
    for key in ("default", "steered", "kl"):
        if key not in data:
            raise InputError(f"steering data has no {key!r}: pass a SteerResult's to_dict()")
    tokens = data.get("tokens") or {}

    def texts(name: str) -> list[str]:
        ids = data[name]["token_ids"]
        given = tokens.get(name)
        return list(given) if given and len(given) == len(ids) else [f"#{i}" for i in ids]

    return texts("default"), texts("steered"), list(data["kl"])


def _title(data: Mapping[str, Any]) -> str:
    return (f"{data.get('prompt', '')!r}: {data.get('method')} at {data.get('site')}, "
            f"alpha {data.get('alpha')}")


def _fill(kl: float | None, top: float) -> str:
    if kl is None:
        return "#eeeeee"
    return interpolate(PALETTE, min(max(kl / top, 0.0), 1.0))


def steering_svg(data: Mapping[str, Any], *, font_size: float = 11, cell_width: float = 64,
                 title: str | None = None, fonts: Any = None, text_mode: str = "paths"
                 ) -> SVGFigure:
    """Two rows of generated tokens (default, steered) and the per-step KL; ``save`` as
    .svg/.png/.pdf.

    Example:
        >>> fig = steering_svg(res.to_dict())   # doctest: +SKIP
    """
    default, steered, kl = _rows(data)
    fs, cw, ch = float(font_size), float(cell_width), 1.9 * float(font_size)
    top = max((k for k in kl if k is not None), default=0.0) or 1.0
    dwg = SVGFigure(size=(1, 1), profile="full", debug=False)
    writer = GlyphWriter(dwg, text_mode)
    body = dwg.g(id="neuroheat-figure")
    pad, label_w = fs, 5.5 * fs
    n = max(len(default), len(steered), 1)
    lay = fit(title if title is not None else _title(data), max(n * cw, 240), 1.1 * fs, fonts)
    writer.draw_layout(body, lay, pad, pad, "#222222")
    y0 = pad + lay.height + 0.6 * fs
    x0 = pad + label_w
    rows = (("default", default, None), ("steered", steered, kl), ("KL", None, kl))
    for r, (name, toks, shade) in enumerate(rows):
        y = y0 + r * ch
        lab = fit(name, label_w - 6, fs, fonts)
        writer.draw_layout(body, lab, x0 - 6 - lab.width, y + (ch - lab.line_height) / 2,
                           "#333333")
        cells = toks if toks is not None else [
            "-" if k is None else f"{k:.3f}" for k in kl]
        for t, text in enumerate(cells):
            value = shade[t] if shade is not None and t < len(shade) else None
            g = dwg.g(**{"class": f"nh-steer-{name.lower()}", "data-step": str(t)})
            g.set_desc(title=xml_safe(f"step {t}: {text!r}" + (
                f", KL {value:.4f}" if value is not None else "")))
            fill = _fill(value, top) if shade is not None else "#f4f4f4"
            g.add(dwg.rect(insert=(px(x0 + t * cw), px(y)), size=(px(cw), px(ch)), fill=fill,
                           stroke="#ffffff", stroke_width=1))
            cell = fit(text, cw - 6, fs, fonts)
            writer.draw_layout(g, cell, x0 + t * cw + (cw - cell.width) / 2,
                               y + (ch - cell.line_height) / 2, "#111111")
            body.add(g)
    writer.finish()
    w = float(math.ceil(max(x0 + n * cw, pad + lay.width) + pad))
    h = float(math.ceil(y0 + 3 * ch + pad))
    dwg.add(dwg.rect(insert=(0, 0), size=(w, h), fill="#ffffff"))
    dwg.add(body)
    dwg["width"], dwg["height"] = w, h
    dwg.viewbox(0, 0, w, h)
    desc = f"steering: {len(default)} default and {len(steered)} steered tokens with KL"
    dwg.set_desc(title=xml_safe(desc))
    dwg["role"] = "img"
    dwg["aria-label"] = xml_safe(desc)
    return dwg


STYLE = (
    ".nh-steer{border-collapse:collapse;font:12px/1.3 system-ui,sans-serif}"
    ".nh-steer th{font-weight:normal;color:#333;padding:2px 6px;text-align:right}"
    ".nh-steer td{padding:4px 6px;border:1px solid #fff;white-space:pre;text-align:center}"
)


def steering_html(data: Mapping[str, Any], *, title: str | None = None) -> HTMLPage:
    """The two continuations and the per-step KL as an offline page (``save`` as .html).

    Example:
        >>> steering_html(res.to_dict()).save("steer.html")   # doctest: +SKIP
    """
    default, steered, kl = _rows(data)
    top = max((k for k in kl if k is not None), default=0.0) or 1.0

    def cells(toks: list[str], shade: bool) -> str:
        out = []
        for t, text in enumerate(toks):
            value = kl[t] if shade and t < len(kl) else None
            style = f' style="background:{_fill(value, top)}"' if shade else ""
            tip = f' title="KL {value:.4f}"' if value is not None else ""
            out.append(f'<td data-step="{t}"{style}{tip} dir="auto">'
                       f"{html.escape(text)}</td>")
        return "".join(out)

    kl_cells = "".join(f'<td data-role="kl">{"-" if k is None else f"{k:.3f}"}</td>'
                       for k in kl)
    head = html.escape(title if title is not None else _title(data))
    table = (f'<table class="nh-steer"><tbody>'
             f'<tr data-role="default"><th>default</th>{cells(default, False)}</tr>'
             f'<tr data-role="steered"><th>steered</th>{cells(steered, True)}</tr>'
             f"<tr><th>KL</th>{kl_cells}</tr></tbody></table>")
    return HTMLPage(f"<style>{STYLE}</style><h3>{head}</h3>{table}", "neuroheat steering")
