"""Drawing pieces shared by the saliency figures: canvas, textualheatmap facets, titles, bars.

The focus and comparison figures (:mod:`saliency_svg`) and the many-target views
(:mod:`saliency_views`, :mod:`saliency_dense`) are built from these. Text goes through the
shared layout (:func:`neuroheat.viz.text.layout.layout_tokens`) and :class:`GlyphWriter`.

Example:
    >>> cv = Canvas(600, 14, None, "paths")
    >>> fig = cv.finish(40, "empty")
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from neuroheat.errors import InputError
from neuroheat.viz.color import saliency_palette as P
from neuroheat.viz.drawing import SVGFigure, px
from neuroheat.viz.saliency.data import HeatFacet
from neuroheat.viz.text.glyphs import GlyphWriter, xml_safe
from neuroheat.viz.text.layout import TextLayout, TokenBox, layout_tokens

TITLE_W = 60.0  # textualheatmap's facet title column


class SaliencyDrawing(SVGFigure):
    """An SVG drawing of a saliency view; displays in Jupyter, ``save`` .svg/.png/.pdf.

    ``layouts[f]`` is the text layout of facet f (one per paragraph joined), ``offsets[f]``
    where its tokens were drawn, ``facets`` the data drawn and ``focus`` the focus index.
    """

    facets: list[HeatFacet]
    focus: int | None
    boxes: list[dict[int, tuple[float, float, float, float]]]



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
        f"M{px(x + tl)},{px(y)} H{px(x + w - tr)} A{px(tr)},{px(tr)} 0 0 1 {px(x + w)},"
        f"{px(y + tr)} V{px(y + h - br)} A{px(br)},{px(br)} 0 0 1 {px(x + w - br)},"
        f"{px(y + h)} H{px(x + bl)} A{px(bl)},{px(bl)} 0 0 1 {px(x)},{px(y + h - bl)} "
        f"V{px(y + tl)} A{px(tl)},{px(tl)} 0 0 1 {px(x + tl)},{px(y)} Z"
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
            cv.writer.draw_layout(
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
        inner = dwg.g(transform=f"rotate(90 {px(cx)} {px(cy)})")
        cv.writer.draw_layout(inner, lay, cx - lay.width / 2, cy - lay.height / 2, P.TITLE_TEXT)
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
        cv.writer.draw_layout(
            g, lay, x + (TITLE_W - lay.width) / 2, y + (h - lay.height) / 2, P.TITLE_TEXT
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
                    insert=(px(box.x + ox), px(box.y + oy)),
                    size=(px(box.width), px(box.height)),
                    fill=color,
                )
            )
            ink = cv.writer.draw(tg, box, ox, oy, fill=text_color or P.text_on(color))
            ink["class"] = "nh-ink"
            if j in marks:
                tg.add(
                    dwg.rect(
                        insert=(px(box.x + ox), px(box.bottom + oy)),
                        size=(px(box.width), px(0.16 * fs)),
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


def draw_title(cv: Canvas, title: str | None, y: float) -> float:
    if not title:
        return y
    lay = layout_tokens(
        str(title).split() or [""],
        font_size=cv.fs * 1.1,
        fonts=cv.fonts,
        direction="auto",
        max_width=max(cv.width - cv.fs, 50),
    )
    g = cv.dwg.g(**{"class": "nh-title"})
    for box in lay.boxes:
        cv.writer.draw(g, box, cv.fs / 2, y, fill="#000000")
    cv.body.add(g)
    return y + lay.height + 0.5 * cv.fs


def draw_colorbar(cv: Canvas, palette: tuple[str, ...], x: float, y: float, w: float) -> float:
    dwg, fs = cv.dwg, cv.fs
    g = dwg.g(**{"class": "nh-colorbar"})
    h = 0.7 * fs
    n = len(palette)
    for i, color in enumerate(palette):
        g.add(
            dwg.rect(
                insert=(px(x + w * i / n), px(y)),
                size=(px(w / n + (0.3 if i + 1 < n else 0)), px(h)),
                fill=color,
            )
        )
    for t, text in ((0.0, "0"), (1.0, "1 = row max |saliency|")):
        lay = layout_tokens([text], font_size=0.75 * fs, fonts=cv.fonts, pad=0)
        tx = x if t == 0 else x + w - lay.width
        for box in lay.boxes:
            cv.writer.draw(g, box, tx, y + h + 2, fill="#333333")
    cv.body.add(g)
    return y + h + 2 + 1.1 * fs


# -- minimap --------------------------------------------------------------------------------


def label_width(cv: Canvas, labels: Sequence[str], fs: float) -> float:
    """Width of a label column that fits ``labels`` (at most 12 em) plus a small gap."""
    widths = [
        layout_tokens([t or " "], font_size=fs, fonts=cv.fonts, pad=0).width for t in labels[:400]
    ]
    return min(max(widths, default=0.0), 12 * fs) + 0.6 * fs
