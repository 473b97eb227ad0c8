"""Static saliency figures in textualheatmap's look, as vector SVG (PNG/PDF by export).

:func:`saliency_svg` draws one focus target: facets stacked, each with its title column on the
right, an optional meta row above it with the focus target's predictions, the tokens on the
palette background, every token coloured by its importance for the focus target, the focus
token underlined, format (spacer) tokens uncoloured. :func:`saliency_compare_svg` draws the
diverging comparison of two targets (orange where A draws more on a token, purple where B
does). Text goes through the shared layout (HarfBuzz shaping, bidi, RTL), glyphs as paths.

Example:
    >>> data = [{"token": "a", "meta": ["and"], "heat": [1.0, 0.3]},
    ...         {"token": " ", "format": True},
    ...         {"token": "b", "meta": ["be"], "heat": [0.3, 1.0]}]
    >>> fig = saliency_svg(data, focus=1, show_meta=True)
    >>> fig.save("focus.svg")   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neuroheat.viz.color import saliency_palette as P
from neuroheat.viz.drawing import px
from neuroheat.viz.saliency.data import as_facets, check_index, default_focus
from neuroheat.viz.saliency.draw import (
    TITLE_W,
    Canvas,
    SaliencyDrawing,
    _check_width,
    draw_facets,
    fit_text,
    resolve_direction,
)

__all__ = ["SaliencyDrawing", "saliency_compare_svg", "saliency_svg"]


def saliency_svg(
    data: Any,
    focus: int | None = None,
    facet_titles: Sequence[str] | None = None,
    show_meta: bool = True,
    rotate_facet_titles: bool = False,
    width: float = 600,
    *,
    font_size: float = 14,
    direction: str = "auto",
    fonts: Any = None,
    text_mode: str = "paths",
) -> SaliencyDrawing:
    """textualheatmap's view of one focus target as a vector figure.

    Args:
        data: a ``Saliency``, a list of them (one facet each) or textualheatmap data.
        focus: heat index of the focus token (for a ``Saliency``: the token index; negative
            counts from the end); default: the first token that is a target.
        facet_titles: one title per facet (default: the method, or "Heatmap").
        show_meta: draw the meta row with the focus target's predictions (or its label).
        rotate_facet_titles: turn the titles 90 degrees, as textualheatmap does.
        width: figure width in pixels, title column (60 px) included.
        font_size, direction (``ltr``/``rtl``/``auto``), fonts, text_mode: see
            :func:`neuroheat.viz.visualize_activations`.

    Example:
        >>> fig = saliency_svg(sal, focus=3)          # doctest: +SKIP
        >>> fig.save("saliency.pdf")               # doctest: +SKIP
    """
    _check_width(width)
    facets = as_facets(data, facet_titles)
    j = default_focus(facets[0]) if focus is None else check_index(facets[0], focus)
    cv = Canvas(width, font_size, fonts, text_mode)
    direction = resolve_direction(facets[0].tokens, direction)
    palettes = [P.colors_of(f.heat[j]) for f in facets]
    # Each facet's meta row shows its own predictions, as in textualheatmap.
    metas = [[("", f.meta[j])] for f in facets] if show_meta else None
    height = draw_facets(
        cv,
        facets,
        lambda f, t: palettes[f][t],
        {j: P.TEXT},
        metas,
        direction=direction,
        rotate_facet_titles=rotate_facet_titles,
        background=P.CONTENT_BG,
        text_color=P.TEXT,
    )
    text = " ".join(facets[0].tokens)
    dwg = cv.finish(height, f"saliency for token {j} ({facets[0].tokens[j]}): {text}")
    dwg.facets, dwg.focus = facets, j
    return dwg


def saliency_compare_svg(
    data: Any,
    a: int,
    b: int,
    facet_titles: Sequence[str] | None = None,
    show_meta: bool = True,
    rotate_facet_titles: bool = False,
    width: float = 600,
    *,
    font_size: float = 14,
    direction: str = "auto",
    fonts: Any = None,
    text_mode: str = "paths",
) -> SaliencyDrawing:
    """Diverging comparison of targets ``a`` and ``b``: each token coloured by
    ``heat_a - heat_b`` (orange: A draws more on it; purple: B does), A and B underlined in
    their colours, a legend below. Arguments as :func:`saliency_svg`.

    Example:
        >>> fig = saliency_compare_svg(sal, 3, 7)     # doctest: +SKIP
    """
    _check_width(width)
    facets = as_facets(data, facet_titles)
    ia, ib = check_index(facets[0], a, "a"), check_index(facets[0], b, "b")
    cv = Canvas(width, font_size, fonts, text_mode)
    direction = resolve_direction(facets[0].tokens, direction)
    diffs = [f.heat[ia] - f.heat[ib] for f in facets]
    color_a, color_b = P.DIVERGING[-1], P.DIVERGING[0]
    toks = facets[0].tokens
    metas = None
    if show_meta:
        dash = "\u2013"
        metas = [
            [
                (
                    "",
                    [
                        f"A \u00b7 {toks[ia]}: {', '.join(f.meta[ia]) or dash}",
                        f"B \u00b7 {toks[ib]}: {', '.join(f.meta[ib]) or dash}",
                    ],
                )
            ]
            for f in facets
        ]
    y = draw_facets(
        cv,
        facets,
        lambda f, t: P.diverging_color(diffs[f][t]),
        {ia: color_a, ib: color_b},
        metas,
        direction=direction,
        rotate_facet_titles=rotate_facet_titles,
        background=P.DIVERGING[32],
    )
    y = _diverging_legend(cv, y + 0.6 * cv.fs, toks[ia], toks[ib])
    dwg = cv.finish(y, f"saliency of token {ia} ({toks[ia]}) minus token {ib} ({toks[ib]})")
    dwg.facets, dwg.focus = facets, None
    return dwg


def _diverging_legend(cv: Canvas, y: float, label_a: str, label_b: str) -> float:
    dwg, fs = cv.dwg, cv.fs
    g = dwg.g(**{"class": "nh-legend"})
    bar_w = min(240.0, cv.width - TITLE_W - 20)
    h = 0.7 * fs
    lab_b = fit_text(
        f"B \u00b7 {label_b} stronger", (cv.width - TITLE_W - bar_w) / 2 - 8, 0.8 * fs, cv.fonts
    )
    lab_a = fit_text(
        f"A \u00b7 {label_a} stronger", (cv.width - TITLE_W - bar_w) / 2 - 8, 0.8 * fs, cv.fonts
    )
    x0 = (cv.width - TITLE_W - bar_w) / 2
    n = len(P.DIVERGING)
    for i, color in enumerate(P.DIVERGING):
        g.add(
            dwg.rect(
                insert=(px(x0 + bar_w * i / n), px(y)),
                size=(px(bar_w / n + (0.3 if i + 1 < n else 0)), px(h)),
                fill=color,
            )
        )
    g.add(
        dwg.rect(
            insert=(px(x0), px(y)),
            size=(px(bar_w), px(h)),
            fill="none",
            stroke="#888888",
            stroke_width=0.5,
        )
    )
    ty = y + (h - lab_a.line_height) / 2
    cv.writer.draw_layout(g, lab_b, x0 - 6 - lab_b.width, ty, "#333333")
    cv.writer.draw_layout(g, lab_a, x0 + bar_w + 6, ty, "#333333")
    cv.body.add(g)
    return y + max(h, lab_a.line_height) + 0.3 * fs
