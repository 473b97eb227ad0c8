"""ecco-style static views of many targets (generation, long texts) as vector SVG.

- :func:`saliency_minimap_svg`: one thumbnail per target, the text's shape in small coloured
  blocks, the target's own token outlined, its label below.
- :func:`saliency_tall_svg`: input tokens as thin bars, one row per target, labelled.
- :func:`~neuroheat.viz.saliency.dense.saliency_dense_svg`: the same matrix for 100+ targets as one embedded image with
  sparse tick labels (small files, fast viewers).
- :func:`saliency_continuations_svg`: several generations from one prompt side by side, one
  tall heatmap each, steps aligned row by row.

The diverging comparison of two targets is :func:`neuroheat.viz.saliency.focus.saliency_compare_svg`.
Colours are textualheatmap's palette by default (``cmap`` picks another sequential map); cells
a target cannot depend on (tokens after a causal target) are light grey.

Example:
    >>> sal = nh.saliency("gpt2-dir", "Once upon a time", generate=20)   # doctest: +SKIP
    >>> saliency_tall_svg(sal).save("tall.pdf")                      # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.viz.color import saliency_palette as P
from neuroheat.viz.drawing import px
from neuroheat.viz.saliency.data import TargetMatrix, as_matrix
from neuroheat.viz.saliency.draw import (
    Canvas,
    SaliencyDrawing,
    draw_colorbar,
    draw_title,
    fit_text,
    label_width,
    resolve_direction,
)
from neuroheat.viz.text.layout import layout_tokens

OUTLINE = "#d62728"  # a target's own token



def _cell_colors(m: TargetMatrix, palette: tuple[str, ...]) -> list[list[str]]:
    n = len(palette) - 1
    idx = np.clip(np.floor(np.nan_to_num(m.values) * n), 0, n).astype(int)
    return [
        [palette[i] if m.valid[r, j] else P.MUTED for j, i in enumerate(row)]
        for r, row in enumerate(idx)
    ]


def saliency_minimap_svg(
    data: Any,
    *,
    thumb_width: float = 160,
    columns: int | None = None,
    font_size: float = 12,
    thumb_font: float = 5,
    cmap: str | None = None,
    direction: str = "auto",
    title: str | None = None,
    fonts: Any = None,
    text_mode: str = "paths",
) -> SaliencyDrawing:
    """One thumbnail per target: the whole text in small blocks coloured by that target's
    row, the target's token outlined in red, the target label below.

    Args:
        data: a ``Saliency`` or one facet of textualheatmap data.
        thumb_width: width of a thumbnail in pixels; ``columns``: thumbnails per row
            (default: up to 6).
        thumb_font: the font size the thumbnails' text is laid out at (its shape only).
    """
    m = as_matrix(data)
    n = len(m.labels)
    if n == 0:
        raise InputError("nothing to draw: the saliency has no targets")
    palette = P.sequential(cmap)
    cols = columns or min(n, 6)
    if cols < 1:
        raise InputError(f"columns must be at least 1, not {columns!r}")
    gap, pad = 0.8 * font_size, 4.0
    width = cols * thumb_width + (cols - 1) * gap + font_size
    cv = Canvas(width, font_size, fonts, text_mode)
    lay = layout_tokens(
        [t or " " for t in m.tokens],
        font_size=thumb_font,
        direction=resolve_direction(m.tokens, direction),
        max_width=thumb_width - 2 * pad,
        fonts=fonts,
        pad=0.12 * thumb_font,
        gap=0.3 * thumb_font,
        line_gap=0.35 * thumb_font,
    )
    thumb_h = lay.height + 2 * pad
    label_h = 1.5 * font_size
    colors = _cell_colors(m, palette)
    y0 = draw_title(cv, title, font_size / 2)
    dwg = cv.dwg
    cv.dwg.boxes = []
    for r in range(n):
        cx = font_size / 2 + (r % cols) * (thumb_width + gap)
        cy = y0 + (r // cols) * (thumb_h + label_h + gap)
        g = dwg.g(**{"class": "nh-thumb", "data-row": str(r)})
        g.add(
            dwg.rect(
                insert=(px(cx), px(cy)),
                size=(px(thumb_width), px(thumb_h)),
                fill="#ffffff",
                stroke="#cccccc",
                stroke_width=1,
                rx=3,
                ry=3,
            )
        )
        placed = {}
        for box in lay.boxes:
            bx, by = cx + pad + box.x, cy + pad + box.y
            rect = dwg.rect(
                insert=(px(bx), px(by)),
                size=(px(box.width), px(box.height)),
                fill=colors[r][box.index],
                **{"data-index": str(box.index)},
            )
            if m.positions[r] == box.index:
                rect["stroke"], rect["stroke-width"] = OUTLINE, 1.2
            g.add(rect)
            placed[box.index] = (bx, by, box.width, box.height)
        cv.dwg.boxes.append(placed)
        lab = fit_text(m.labels[r], thumb_width, font_size * 0.9, fonts)
        lg = dwg.g(**{"class": "nh-thumb-label"})
        for box in lab.boxes:
            cv.writer.draw(
                lg, box, cx + (thumb_width - lab.width) / 2, cy + thumb_h + 2, fill="#222222"
            )
        g.add(lg)
        cv.body.add(g)
    rows = math.ceil(n / cols)
    y = y0 + rows * (thumb_h + label_h + gap)
    y = draw_colorbar(cv, palette, font_size / 2, y, min(240.0, width - font_size))
    fig = cv.finish(y + font_size / 2, f"saliency minimap of {n} targets: {' '.join(m.tokens)}")
    fig.facets, fig.focus = [], None
    return fig


# -- tall and continuations -----------------------------------------------------------------
def _bar_width(
    n_tokens: int, bar_width: float | None, width: float | None, label_w: float
) -> float:
    if bar_width is not None:
        if not bar_width > 0:
            raise InputError(f"bar_width must be a positive number of pixels, not {bar_width!r}")
        return float(bar_width)
    if width is not None:
        return max(1.0, (float(width) - label_w) / max(n_tokens, 1))
    return 14.0 if n_tokens <= 40 else 8.0 if n_tokens <= 100 else 4.0


def _grid(
    cv: Canvas,
    m: TargetMatrix,
    x: float,
    y: float,
    bar_w: float,
    row_h: float,
    palette: tuple[str, ...],
    label_w: float,
    column_labels: bool = True,
) -> tuple[float, float]:
    """A labelled tall heatmap at (x, y); returns its (width, height)."""
    dwg, fs = cv.dwg, cv.fs * 0.85
    n_rows, n_cols = m.values.shape
    colors = _cell_colors(m, palette)
    top = y
    if column_labels:
        col_fs = min(fs, bar_w * 0.85)
        step = 1
        if col_fs < 6:
            col_fs = 6.0
            step = math.ceil(6.0 / (bar_w * 0.85))
        lays = [
            layout_tokens([t or " "], font_size=col_fs, fonts=cv.fonts, pad=0)
            for t in m.tokens[::step]
        ]
        col_h = min(max((lay.width for lay in lays), default=0.0), 10 * fs) + 4
        g = dwg.g(**{"class": "nh-col-labels"})
        for k, lay in enumerate(lays):
            j = k * step
            cx = x + label_w + (j + 0.5) * bar_w
            inner = dwg.g(transform=f"translate({px(cx)} {px(y + col_h - 2)}) rotate(-90)")
            for box in lay.boxes:
                cv.writer.draw(inner, box, 0, -lay.line_height / 2, fill="#333333")
            g.add(inner)
        cv.body.add(g)
        y += col_h
    grid = dwg.g(**{"class": "nh-grid"})
    for r in range(n_rows):
        ry = y + r * row_h
        row = dwg.g(**{"class": "nh-row", "data-row": str(r)})
        for j in range(n_cols):
            row.add(
                dwg.rect(
                    insert=(px(x + label_w + j * bar_w), px(ry)),
                    size=(px(bar_w + 0.02), px(row_h - 1)),
                    fill=colors[r][j],
                )
            )
        pos = m.positions[r]
        if pos is not None and 0 <= pos < n_cols:
            row.add(
                dwg.rect(
                    insert=(px(x + label_w + pos * bar_w + 0.5), px(ry + 0.5)),
                    size=(px(max(bar_w - 1, 0.5)), px(row_h - 2)),
                    fill="none",
                    stroke=OUTLINE,
                    stroke_width=1,
                    **{"class": "nh-target"},
                )
            )
        lab = fit_text(m.labels[r], label_w - 0.6 * fs, min(fs, row_h * 0.75), cv.fonts)
        for box in lab.boxes:
            cv.writer.draw(
                row,
                box,
                x + label_w - 0.4 * fs - lab.width,
                ry + (row_h - 1 - lab.line_height) / 2,
                fill="#222222",
            )
        grid.add(row)
    if m.prompt_length is not None and 0 < m.prompt_length < n_cols:
        lx = x + label_w + m.prompt_length * bar_w
        grid.add(
            dwg.line(
                start=(px(lx), px(top)),
                end=(px(lx), px(y + n_rows * row_h)),
                stroke="#000000",
                stroke_width=1,
                stroke_dasharray="3,2",
                **{"class": "nh-prompt-end"},
            )
        )
    cv.body.add(grid)
    return label_w + n_cols * bar_w, y - top + n_rows * row_h


def saliency_tall_svg(
    data: Any,
    *,
    width: float | None = None,
    bar_width: float | None = None,
    row_height: float = 16,
    font_size: float = 12,
    cmap: str | None = None,
    title: str | None = None,
    fonts: Any = None,
    text_mode: str = "paths",
) -> SaliencyDrawing:
    """Input tokens as thin vertical bars, one row per target (its label on the left, its own
    token outlined in red); with generation, a dashed line where the prompt ends.

    ``width`` fits the bars to a figure width; otherwise ``bar_width`` (default by length).

    Example:
        >>> saliency_tall_svg(sal, width=800).save("tall.svg")   # doctest: +SKIP
    """
    m = as_matrix(data)
    if not m.labels:
        raise InputError("nothing to draw: the saliency has no targets")
    cv = Canvas(100, font_size, fonts, text_mode)
    label_w = label_width(cv, m.labels, font_size * 0.85)
    bar_w = _bar_width(len(m.tokens), bar_width, width, label_w + font_size)
    y = draw_title(cv, title, font_size / 2)
    w, h = _grid(cv, m, font_size / 2, y, bar_w, row_height, P.sequential(cmap), label_w)
    cv.width = max(w + font_size, 260.0)
    y = draw_colorbar(
        cv,
        P.sequential(cmap),
        font_size / 2 + label_w,
        y + h + 0.6 * font_size,
        min(240.0, max(w - label_w, 120.0)),
    )
    fig = cv.finish(
        y + font_size / 2, f"saliency of {len(m.labels)} targets over {len(m.tokens)} tokens"
    )
    fig.facets, fig.focus = [], None
    return fig


def saliency_continuations_svg(
    data: Sequence[Any],
    titles: Sequence[str] | None = None,
    *,
    bar_width: float | None = None,
    row_height: float = 16,
    font_size: float = 12,
    cmap: str | None = None,
    fonts: Any = None,
    text_mode: str = "paths",
) -> SaliencyDrawing:
    """Several continuations of one prompt side by side: a title, the generated text and a
    tall heatmap per continuation, generation steps aligned row by row, one colour scale.

    Example:
        >>> runs = [nh.saliency(lm, prompt, generate=12, seed=s) for s in range(3)]  # doctest: +SKIP
        >>> saliency_continuations_svg(runs, [f"seed {s}" for s in range(3)])       # doctest: +SKIP
    """
    if not isinstance(data, list | tuple) or not data:
        raise InputError("pass a list of Saliency results (one per continuation)")
    mats = [as_matrix(d) for d in data]
    if titles is None:
        titles = [f"continuation {i + 1}" for i in range(len(mats))]
    if isinstance(titles, str) or len(titles) != len(mats):
        raise InputError(f"titles must be a list of {len(mats)} strings, got {titles!r}")
    cv = Canvas(100, font_size, fonts, text_mode)
    palette = P.sequential(cmap)
    label_w = max(label_width(cv, m.labels, font_size * 0.85) for m in mats)
    n_cols = max(len(m.tokens) for m in mats)
    bar_w = _bar_width(n_cols, bar_width, None, 0)
    panel_w = label_w + n_cols * bar_w
    heads = []
    for t, m in zip(titles, mats, strict=True):
        start = m.prompt_length or 0
        words = "".join(
            (" " if sp and k > start else "") + tok
            for k, (tok, sp) in enumerate(zip(m.tokens, m.space_before, strict=True))
            if k >= start
        )
        head = layout_tokens(
            str(t).split() or [""],
            font_size=font_size,
            fonts=fonts,
            direction="auto",
            max_width=panel_w,
        )
        body = layout_tokens(
            words.split() or [""],
            font_size=font_size * 0.85,
            fonts=fonts,
            direction="auto",
            max_width=panel_w,
        )
        heads.append((head, body))
    head_h = max(h.height + 0.2 * font_size + b.height for h, b in heads) + 0.5 * font_size
    x = font_size / 2
    gap = 1.5 * font_size
    bottom = 0.0
    for (head, body), m in zip(heads, mats, strict=True):
        g = cv.dwg.g(**{"class": "nh-panel-title"})
        for box in head.boxes:
            cv.writer.draw(g, box, x + label_w, font_size / 2, fill="#000000")
        for box in body.boxes:
            cv.writer.draw(
                g, box, x + label_w, font_size / 2 + head.height + 0.2 * font_size, fill="#555555"
            )
        cv.body.add(g)
        _, h = _grid(cv, m, x, font_size / 2 + head_h, bar_w, row_height, palette, label_w)
        bottom = max(bottom, font_size / 2 + head_h + h)
        x += panel_w + gap
    cv.width = x - gap + font_size / 2
    y = draw_colorbar(
        cv,
        palette,
        font_size / 2 + label_w,
        bottom + 0.6 * font_size,
        min(240.0, max(panel_w - label_w, 120.0)),
    )
    fig = cv.finish(y + font_size / 2, f"{len(mats)} continuations side by side")
    fig.facets, fig.focus = [], None
    return fig
