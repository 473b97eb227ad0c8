"""The lens table as an offline HTML page: top-K on hover, no script, a strict CSP.

The hover list is plain HTML shown by CSS (``:hover`` / ``:focus``), so the page needs no
JavaScript and no network; every token is HTML-escaped and laid out by the browser with
``dir="auto"``; right-to-left inputs get a right-to-left table.

Example:
    >>> lens_html(result.to_dict()).save("lens.html")   # doctest: +SKIP
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from neuroheat.viz.html.page import HTMLPage
from neuroheat.viz.lens.cells import lens_grid

STYLE = (
    ".nh-lens{border-collapse:collapse;font:12px/1.3 system-ui,sans-serif}"
    ".nh-lens td,.nh-lens th{padding:0}"
    ".nh-lens th{font-weight:normal;color:#333;padding:2px 6px;white-space:nowrap}"
    ".nh-lens td .c{position:relative;display:block;min-width:56px;max-width:96px;"
    "overflow:visible;text-align:center;padding:5px 3px;border:1px solid #fff;outline:none}"
    ".nh-lens td .t{display:block;overflow:hidden;text-overflow:ellipsis;white-space:pre}"
    ".nh-lens .tip{display:none;position:absolute;z-index:2;top:100%;left:0;background:#fff;"
    "color:#000;border:1px solid #888;padding:4px 6px;text-align:left;white-space:pre;"
    "box-shadow:0 2px 6px rgba(0,0,0,.3)}"
    ".nh-lens .c:hover .tip,.nh-lens .c:focus .tip{display:block}"
    ".nh-lens .tok{writing-mode:vertical-rl;transform:rotate(180deg);max-height:8em;"
    "overflow:hidden;white-space:pre}"
    ".nh-lens-legend{font:12px system-ui,sans-serif;margin-top:8px;display:flex;gap:6px;"
    "align-items:center}.nh-lens-legend .bar{width:200px;height:10px}"
)


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def lens_html(data: Mapping[str, Any], *, color: str | None = None, direction: str = "auto",
              title: str | None = None) -> HTMLPage:
    """An :class:`~neuroheat.viz.html.page.HTMLPage` of the lens table (``save`` as .html).

    Example:
        >>> page = lens_html(res.to_dict(), color="target")   # doctest: +SKIP
    """
    grid = lens_grid(data, color, direction)
    head = "".join(f'<th><span class="tok" dir="auto">{_esc(tok)}</span></th>'
                   for tok in grid.tokens)
    body = []
    for layer, row in zip(grid.layers, grid.rows, strict=True):
        cells = []
        for t, cell in enumerate(row):
            tip = "\n".join(f"{_esc(name)}  {p:.3f}" for name, p in cell.top)
            cells.append(
                f'<td><span class="c" tabindex="0" data-position="{t}" '
                f'style="background:{cell.fill};color:{cell.ink}">'
                f'<span class="t" dir="auto">{_esc(cell.text)}</span>'
                f'<span class="tip" dir="auto">{_esc(grid.label)} {cell.value:.3f}\n{tip}'
                "</span></span></td>")
        body.append(f'<tr><th scope="row">{layer}</th>{"".join(cells)}</tr>')
    gradient = ",".join(grid.palette)
    legend = (f'<div class="nh-lens-legend"><span>{grid.vmin:.2f}</span>'
              f'<span class="bar" style="background:linear-gradient(to right,{gradient})">'
              f"</span><span>{grid.vmax:.2f}</span><span>{_esc(grid.label)}</span></div>")
    heading = f"<h3>{_esc(title)}</h3>" if title else ""
    table = (f'<table class="nh-lens" dir="{"rtl" if grid.rtl else "ltr"}">'
             f'<tbody>{"".join(body)}</tbody><tfoot><tr><th>layer</th>{head}</tr></tfoot>'
             "</table>")
    fragment = f"<style>{STYLE}</style>{heading}{table}{legend}"
    return HTMLPage(fragment, title or "neuroheat lens")
