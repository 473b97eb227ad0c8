"""Interactive saliency view as ONE self-contained HTML file (inline JS and CSS, no network).

Hover a token: every facet recolours to that target's row and the meta rows show its
predictions; click pins it; shift-click a second token for the diverging comparison (orange
where the first draws more on a token, purple where the second does); Esc leaves; arrow keys
step through targets. The same object displays inside Jupyter, VS Code and Colab
(``_repr_html_``) and saves as a standalone page with a Content-Security-Policy that forbids
every request.

Safety: token text, meta strings and titles travel as JSON inside a
``<script type="application/json">`` (``<``, ``>``, ``&`` and non-ASCII escaped as ``\\uXXXX``)
and the page script puts them into the DOM with ``textContent`` only.

Example:
    >>> page = saliency_html([{"token": "a", "meta": ["and"], "heat": [1.0]}])
    >>> page.save("saliency.html")   # doctest: +SKIP
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.viz.color import saliency_palette as P
from neuroheat.viz.html.page import HTMLPage, asset, script_json
from neuroheat.viz.saliency.data import HeatFacet, as_facets, check_index, default_focus

FIXED = 24576  # heat h -> uint16 floor(h * 24576); the palette index floor(h * 96) is v >> 8
def encode_heat(facet: HeatFacet) -> tuple[str, list[int]]:
    """Rows of the facet's targets as base64 little-endian uint16 (``floor(h * 24576)``) and
    the row of each token (-1: not a target)."""
    rows = np.flatnonzero(facet.has_row)
    row_of = np.full(facet.k, -1, dtype=np.int64)
    row_of[rows] = np.arange(rows.size)
    heat = np.clip(np.nan_to_num(facet.heat[rows], nan=0.0), 0.0, 1.0)
    fixed = np.minimum(np.floor(heat * FIXED), FIXED).astype("<u2")
    return base64.b64encode(fixed.tobytes()).decode("ascii"), row_of.tolist()


class SaliencyHTML(HTMLPage):
    """An interactive view: ``_repr_html_`` for notebooks, ``save`` for a standalone page.

    ``fragment`` is the embeddable HTML (one root ``div``, its data and its script);
    ``document()`` the full page; ``facets`` the data shown.
    """

    viewport = True
    save_hint = (
        "an interactive view saves as .html; use saliency_svg(...).save() for .svg/.png/.pdf"
    )

    def __init__(self, fragment: str, facets: list[HeatFacet], title: str) -> None:
        super().__init__(fragment, title)
        self.facets = facets


def render_fragment(facets: list[HeatFacet], settings: dict[str, Any]) -> str:
    """The HTML fragment for ``facets`` with viewer ``settings`` (see :func:`saliency_html`)."""
    payload_facets = []
    for f in facets:
        rows, row_of = encode_heat(f)
        payload_facets.append(
            {
                "title": f.title,
                "items": [[t, 1 if fmt else 0] for t, fmt in f.items],
                "rows": rows,
                "rowOf": row_of,
                "meta": f.meta,
            }
        )
    payload = {
        "k": facets[0].k,
        "facets": payload_facets,
        "settings": settings,
        "palette": list(P.PALETTE),
        "diverging": list(P.DIVERGING),
        "divText": [P.text_on(c) for c in P.DIVERGING],
    }
    root_id = "nh-saliency-" + uuid.uuid4().hex[:12]
    return (
        f"<style>{asset('saliency.css')}</style>\n"
        f'<div class="nh-saliency" id="{root_id}" data-nh-pending="1" tabindex="0" '
        f'role="group" aria-label="saliency heatmap">'
        f'<script type="application/json" class="nh-saliency-data">{script_json(payload)}'
        '</script><div class="nh-noscript">This interactive view needs JavaScript (in '
        "Jupyter: trust the notebook; or open the saved .html file in a browser).</div></div>\n"
        f"<script>{asset('saliency.js')}</script>"
    )


def saliency_html(
    data: Any,
    focus: int | None = None,
    facet_titles: Sequence[str] | None = None,
    show_meta: bool = True,
    rotate_facet_titles: bool = False,
    width: int = 600,
    *,
    interactive: bool = True,
    compare: tuple[int, int] | None = None,
    direction: str = "auto",
    title: str | None = None,
) -> SaliencyHTML:
    """The interactive view of ``data`` (a ``Saliency``, a list of them, or textualheatmap data).

    Args:
        focus: heat index shown first (None: the first target).
        facet_titles, show_meta, rotate_facet_titles, width: as :func:`saliency_svg`.
        interactive: False shows ``focus`` only (textualheatmap's ``interactive=False``).
        compare: ``(a, b)`` opens in the diverging comparison of tokens a and b.
        direction: ``ltr``, ``rtl`` or ``auto`` (the browser decides per paragraph).
        title: the page title of a saved file.

    Example:
        >>> saliency_html(sal, facet_titles=["BERT"]).save("bert.html")   # doctest: +SKIP
    """
    if isinstance(width, bool) or not isinstance(width, int | float) or width <= 0:
        raise InputError(f"width must be a positive number of pixels, not {width!r}")
    d = str(direction).lower()
    if d not in ("ltr", "rtl", "auto"):
        raise InputError(f"direction must be 'ltr', 'rtl' or 'auto', not {direction!r}")
    for name, flag in (
        ("show_meta", show_meta),
        ("rotate_facet_titles", rotate_facet_titles),
        ("interactive", interactive),
    ):
        if not isinstance(flag, bool):
            raise InputError(f"{name} must be True or False, not {flag!r}")
    facets = as_facets(data, facet_titles)
    focus = default_focus(facets[0]) if focus is None else check_index(facets[0], focus)
    pair = None
    if compare is not None:
        if not isinstance(compare, list | tuple) or len(compare) != 2:
            raise InputError(f"compare must be a pair of token indices (a, b), not {compare!r}")
        pair = [
            check_index(facets[0], compare[0], "compare[0]"),
            check_index(facets[0], compare[1], "compare[1]"),
        ]
    settings = {
        "width": float(width),
        "showMeta": show_meta,
        "rotateFacetTitles": rotate_facet_titles,
        "interactive": interactive,
        "direction": d,
        "focus": focus,
        "compare": pair,
    }
    page_title = title or "neuroheat saliency: " + " ".join(facets[0].tokens)[:80]
    return SaliencyHTML(render_fragment(facets, settings), facets, page_title)
