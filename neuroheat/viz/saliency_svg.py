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
    >>> fig.save_as("focus.svg")   # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from neuroheat.errors import InputError
from neuroheat.viz import saliency_palette as P
from neuroheat.viz.activations_svg import ActivationDrawing
from neuroheat.viz.layout import TextLayout, TokenBox, layout_tokens
from neuroheat.viz.saliency_data import HeatFacet, as_facets, check_index, default_focus
from neuroheat.viz.svg_glyphs import GlyphWriter, xml_safe

TITLE_W = 60.0  # textualheatmap's facet title column


class SaliencyDrawing(ActivationDrawing):
    """An SVG drawing of a saliency view; displays in Jupyter, ``save_as`` .svg/.png/.pdf.

    ``layouts[f]`` is the text layout of facet f (one per paragraph joined), ``offsets[f]``
    where its tokens were drawn, ``facets`` the data drawn and ``focus`` the focus index.
    """

    facets: list[HeatFacet]
    focus: int | None
    boxes: list[dict[int, tuple[float, float, float, float]]]


def _r(v: float) -> float:
    return round(float(v), 2)


def rounded_path(
    x: float,
    y: float,
    w: float,
    h: float,
    tl: float = 0.0,
    tr: float = 0.0,
    br: float = 0.0,
    bl: float = 0.0,
) -> str:
    """SVG path data of a rectangle with its own radius at each corner."""
    lim = min(w, h) / 2
    tl, tr, br, bl = (min(r, lim) for r in (tl, tr, br, bl))
    return (
        f"M{_r(x + tl)},{_r(y)} H{_r(x + w - tr)} A{_r(tr)},{_r(tr)} 0 0 1 {_r(x + w)},"
        f"{_r(y + tr)} V{_r(y + h - br)} A{_r(br)},{_r(br)} 0 0 1 {_r(x + w - br)},"
        f"{_r(y + h)} H{_r(x + bl)} A{_r(bl)},{_r(bl)} 0 0 1 {_r(x)},{_r(y + h - bl)} "
        f"V{_r(y + tl)} A{_r(tl)},{_r(tl)} 0 0 1 {_r(x + tl)},{_r(y)} Z"
    )


def resolve_direction(texts: Sequence[str], direction: str) -> str:
    """``"ltr"``/``"rtl"``; ``"auto"`` from the first strong character of the text."""
    d = str(direction).lower()
    if d not in ("ltr", "rtl", "auto"):
        raise InputError(f"direction must be 'ltr', 'rtl' or 'auto', not {direction!r}")
    if d == "auto":
        from bidi import get_base_level

        joined = "".join(texts)
        return "rtl" if joined.strip() and get_base_level(joined) == 1 else "ltr"
    return d


def layout_items(
    items: Sequence[tuple[str, bool]],
    *,
    font_size: float,
    max_width: float,
    direction: str,
    fonts: Any = None,
) -> tuple[list[TokenBox | None], float, float]:
    """Lay out a facet's items like inline spans: no padding, no gaps; a format token holding
    a newline starts a new paragraph. Returns one box per item (None for a newline token, its
    text is not drawn), the text height and the layout's line pitch."""
    paragraphs: list[list[int]] = [[]]
    for i, (text, fmt) in enumerate(items):
        if fmt and "\n" in text:
            paragraphs.append([])
        else:
            paragraphs[-1].append(i)
    boxes: list[TokenBox | None] = [None] * len(items)
    gap = 0.22 * font_size
    y = 0.0
    pitch = 0.0
    for para in paragraphs:
        texts = [items[i][0].replace("\t", "    ") for i in para] or [""]
        lay: TextLayout = layout_tokens(
            texts,
            font_size=font_size,
            direction=direction,
            max_width=max_width,
            fonts=fonts,
            pad=0.0,
            line_gap=gap,
        )
        pitch = lay.line_pitch
        for box in lay.boxes if para else ():
            boxes[para[box.index]] = _shift(box, para[box.index], y)
        y += lay.height + gap
    return boxes, max(y - gap, 0.0), pitch


def _shift(box: TokenBox, index: int, dy: float) -> TokenBox:
    from dataclasses import replace

    glyphs = tuple(replace(g, y=g.y + dy) for g in box.glyphs)
    ink = None if box.ink is None else (box.ink[0], box.ink[1] + dy, box.ink[2], box.ink[3] + dy)
    return replace(
        box, index=index, y=box.y + dy, baseline=box.baseline + dy, ink=ink, glyphs=glyphs
    )


def fit_text(text: str, max_width: float, font_size: float, fonts: Any = None) -> TextLayout:
    """One line of ``text``, shortened with an ellipsis until it fits ``max_width``."""
    lay = layout_tokens([text], font_size=font_size, fonts=fonts, pad=0.0, direction="auto")
    s = text
    while lay.width > max_width and len(s) > 1:
        s = s[: max(1, int(len(s) * max_width / lay.width) - 1)]
        lay = layout_tokens(
            [s + "\u2026"], font_size=font_size, fonts=fonts, pad=0.0, direction="auto"
        )
    return lay


def _draw_line(
    writer: GlyphWriter, parent: Any, lay: TextLayout, x: float, y: float, fill: str
) -> None:
    for box in lay.boxes:
        writer.draw(parent, box, x, y, fill=fill)


class Canvas:
    """The pieces every text view shares: drawing, glyph writer, figure group, options."""

    def __init__(self, width: float, font_size: float, fonts: Any, text_mode: str) -> None:
        if not isinstance(width, int | float) or not width > 0:
            raise InputError(f"width must be a positive number of pixels, not {width!r}")
        if not font_size or font_size <= 0:
            raise InputError(f"font_size must be a positive number, not {font_size!r}")
        self.dwg = SaliencyDrawing(size=(1, 1), profile="full", debug=False)
        self.writer = GlyphWriter(self.dwg, text_mode)
        self.body = self.dwg.g(id="neuroheat-figure")
        self.width, self.fs, self.fonts = float(width), float(font_size), fonts

    def finish(self, height: float, description: str) -> SaliencyDrawing:
        dwg = self.dwg
        width, height = float(math.ceil(self.width)), float(math.ceil(height))
        self.writer.finish()
        dwg.add(dwg.rect(insert=(0, 0), size=(width, height), fill="#ffffff"))
        dwg.add(self.body)
        dwg["width"], dwg["height"] = width, height
        dwg.viewbox(0, 0, width, height)
        dwg.set_desc(title=xml_safe(description[:500]))
        dwg["role"] = "img"
        dwg["aria-label"] = xml_safe(description[:2000])
        return dwg


def _check_width(width: Any) -> None:
    if isinstance(width, bool) or not isinstance(width, int | float) or not width > TITLE_W + 40:
        raise InputError(
            f"width must be more than {TITLE_W + 40:g} pixels (the title column is "
            f"{TITLE_W:g}), not {width!r}"
        )


def _meta_row(
    cv: Canvas, items: list[str], x: float, y: float, w: float, h: float, prefix: str = ""
) -> None:
    dwg = cv.dwg
    g = dwg.g(**{"class": "nh-meta"})
    n = max(1, len(items))
    gap = 2.0
    iw = (w - gap * (n - 1)) / n
    for k in range(n):
        ix = x + k * (iw + gap)
        radii = dict(tl=5.0 if k == 0 else 0.0, tr=5.0 if k == n - 1 else 0.0)
        g.add(
            dwg.path(
                d=rounded_path(ix, y, iw, h, **radii),
                fill=P.META_BG,
                stroke=P.META_BORDER,
                stroke_width=1,
            )
        )
        if k < len(items):
            text = (prefix + items[k]) if k == 0 and prefix else items[k]
            lay = fit_text(text, iw - 10, cv.fs, cv.fonts)
            item = dwg.g(**{"class": "nh-meta-item"})
            _draw_line(
                cv.writer,
                item,
                lay,
                ix + (iw - lay.width) / 2,
                y + (h - lay.line_height) / 2,
                "#000000",
            )
            g.add(item)
    cv.body.add(g)


def _title_column(cv: Canvas, title: str, x: float, y: float, h: float, rotate: bool) -> None:
    dwg = cv.dwg
    g = dwg.g(**{"class": "nh-facet-title"})
    g.add(
        dwg.path(
            d=rounded_path(x - 6, y, TITLE_W + 6, h, tr=5.0, br=5.0),
            fill=P.TITLE_BG,
            stroke=P.META_BORDER,
            stroke_width=1,
        )
    )
    words = title.split() or [""]
    fs = cv.fs * 0.9
    if rotate:
        lay = layout_tokens(words, font_size=fs, fonts=cv.fonts, direction="auto")
        if lay.width > h - 6 and lay.width > 0:
            lay = layout_tokens(
                words,
                font_size=max(6.0, fs * (h - 6) / lay.width),
                fonts=cv.fonts,
                direction="auto",
            )
        cx, cy = x + TITLE_W / 2, y + h / 2
        inner = dwg.g(transform=f"rotate(90 {_r(cx)} {_r(cy)})")
        _draw_line(cv.writer, inner, lay, cx - lay.width / 2, cy - lay.height / 2, P.TITLE_TEXT)
        g.add(inner)
    else:
        lay = layout_tokens(
            words, font_size=fs, fonts=cv.fonts, direction="auto", max_width=TITLE_W - 4
        )
        if lay.width > TITLE_W - 4:
            lay = layout_tokens(
                words,
                font_size=max(6.0, fs * (TITLE_W - 4) / lay.width),
                fonts=cv.fonts,
                direction="auto",
                max_width=TITLE_W - 4,
            )
        _draw_line(
            cv.writer, g, lay, x + (TITLE_W - lay.width) / 2, y + (h - lay.height) / 2, P.TITLE_TEXT
        )
    cv.body.add(g)


def draw_facets(
    cv: Canvas,
    facets: list[HeatFacet],
    color_of: Callable[[int, int], str],
    marks: dict[int, str],
    metas: list[list[tuple[str, list[str]]]] | None,
    *,
    direction: str,
    rotate_facet_titles: bool,
    background: str,
    text_color: str | None = None,
    y: float = 0.0,
) -> float:
    """Draw stacked facets; ``color_of(facet, j)`` colours token j, ``marks`` underlines
    tokens (index -> colour), ``text_color`` is the token text colour (None: black or white
    by contrast), ``metas[f]`` are facet f's meta rows, each ``(prefix, items)``
    (None: no meta rows). Returns the y below the last facet."""
    dwg, fs = cv.dwg, cv.fs
    pad = 0.5 * fs
    content_w = cv.width - TITLE_W
    meta_h = 2.6 * fs
    cv.dwg.layouts, cv.dwg.offsets, cv.dwg.boxes = [], [], []
    for fi, facet in enumerate(facets):
        if metas is not None:
            for prefix, items in metas[fi]:
                _meta_row(cv, items, 0.0, y, content_w, meta_h, prefix)
                y += meta_h
        boxes, text_h, _ = layout_items(
            facet.items,
            font_size=fs,
            max_width=content_w - 2 * pad,
            direction=direction,
            fonts=cv.fonts,
        )
        block_h = text_h + 2 * pad + 0.2 * fs
        _title_column(cv, facet.title, content_w, y, block_h, rotate_facet_titles)
        radius = dict(bl=5.0) if metas is not None else dict(tl=5.0, bl=5.0)
        fg = dwg.g(**{"class": "nh-facet", "data-facet": str(fi)})
        fg.add(
            dwg.path(
                d=rounded_path(0, y, content_w, block_h, **radius),
                fill=background,
                **{"class": "nh-content"},
            )
        )
        ox, oy = pad, y + pad
        heat_of_item = {item: j for j, item in enumerate(facet.heat_items)}
        placed: dict[int, tuple[float, float, float, float]] = {}
        for item, box in enumerate(boxes):
            if box is None:
                continue
            j = heat_of_item.get(item)
            if j is None:  # format token: verbatim, uncoloured
                tg = dwg.g(**{"class": "nh-format"})
                cv.writer.draw(tg, box, ox, oy, fill=text_color or P.text_on(background))
                fg.add(tg)
                continue
            color = color_of(fi, j)
            tg = dwg.g(
                **{
                    "class": "nh-token",
                    "data-facet": str(fi),
                    "data-index": str(j),
                    "data-color": color,
                }
            )
            tg.set_desc(title=xml_safe(facet.items[item][0]))
            tg.add(
                dwg.rect(
                    insert=(_r(box.x + ox), _r(box.y + oy)),
                    size=(_r(box.width), _r(box.height)),
                    fill=color,
                )
            )
            ink = cv.writer.draw(tg, box, ox, oy, fill=text_color or P.text_on(color))
            ink["class"] = "nh-ink"
            if j in marks:
                tg.add(
                    dwg.rect(
                        insert=(_r(box.x + ox), _r(box.bottom + oy)),
                        size=(_r(box.width), _r(0.16 * fs)),
                        fill=marks[j],
                        **{"class": "nh-focus-mark"},
                    )
                )
            placed[j] = (box.x + ox, box.y + oy, box.width, box.height)
            fg.add(tg)
        cv.body.add(fg)
        cv.dwg.boxes.append(placed)
        cv.dwg.offsets.append((ox, oy))
        y += block_h + (0.5 * fs if fi + 1 < len(facets) else 0.0)
    return y


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
        >>> fig.save_as("saliency.pdf")               # doctest: +SKIP
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
                insert=(_r(x0 + bar_w * i / n), _r(y)),
                size=(_r(bar_w / n + (0.3 if i + 1 < n else 0)), _r(h)),
                fill=color,
            )
        )
    g.add(
        dwg.rect(
            insert=(_r(x0), _r(y)),
            size=(_r(bar_w), _r(h)),
            fill="none",
            stroke="#888888",
            stroke_width=0.5,
        )
    )
    ty = y + (h - lab_a.line_height) / 2
    _draw_line(cv.writer, g, lab_b, x0 - 6 - lab_b.width, ty, "#333333")
    _draw_line(cv.writer, g, lab_a, x0 + bar_w + 6, ty, "#333333")
    cv.body.add(g)
    return y + max(h, lab_a.line_height) + 0.3 * fs
