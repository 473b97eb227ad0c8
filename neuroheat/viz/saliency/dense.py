"""Dense saliency heatmap for long outputs (100+ targets): one embedded image, sparse ticks.

Example:
    >>> saliency_dense_svg(sal).save("dense.pdf")   # doctest: +SKIP
"""

from __future__ import annotations

import base64
import math
import struct
import zlib
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.viz.color import saliency_palette as P
from neuroheat.viz.color.scales import parse_color
from neuroheat.viz.drawing import px
from neuroheat.viz.saliency.data import as_matrix
from neuroheat.viz.saliency.draw import (
    Canvas,
    SaliencyDrawing,
    draw_colorbar,
    draw_title,
    fit_text,
    label_width,
)


def png_bytes(rgb: np.ndarray) -> bytes:
    """A PNG (8-bit RGB, no filter) of ``rgb`` ``[H, W, 3]`` uint8, written with zlib."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def saliency_dense_svg(
    data: Any,
    *,
    width: float = 900,
    max_height: float = 900,
    font_size: float = 11,
    cmap: str | None = None,
    title: str | None = None,
    fonts: Any = None,
    text_mode: str = "paths",
) -> SaliencyDrawing:
    """The target-by-token matrix of long outputs (100+ targets) as one embedded image, with
    tick labels every few rows and columns and the prompt end marked. Cells are square when
    they fit ``width`` x ``max_height``.

    Example:
        >>> saliency_dense_svg(sal).save("dense.pdf")   # doctest: +SKIP
    """
    m = as_matrix(data)
    n_rows, n_cols = m.values.shape
    if n_rows == 0 or n_cols == 0:
        raise InputError("nothing to draw: the saliency has no targets or no tokens")
    palette = P.sequential(cmap)
    cv = Canvas(width, font_size, fonts, text_mode)
    label_w = label_width(cv, m.labels, font_size)
    cell_w = max((width - label_w - font_size) / n_cols, 0.25)
    cell_h = min(cell_w, max(max_height / n_rows, 0.25))
    y = draw_title(cv, title, font_size / 2)
    x0 = font_size / 2 + label_w
    # column ticks
    step_c = max(1, math.ceil(1.3 * font_size / cell_w))
    lays = {
        j: fit_text(m.tokens[j] or " ", 8 * font_size, font_size, fonts)
        for j in range(0, n_cols, step_c)
    }
    col_h = max((lay.width for lay in lays.values()), default=0.0) + 6
    g = cv.dwg.g(**{"class": "nh-col-labels"})
    for j, lay in lays.items():
        cx = x0 + (j + 0.5) * cell_w
        inner = cv.dwg.g(transform=f"translate({px(cx)} {px(y + col_h - 4)}) rotate(-90)")
        for box in lay.boxes:
            cv.writer.draw(inner, box, 0, -lay.line_height / 2, fill="#333333")
        g.add(inner)
        g.add(
            cv.dwg.line(
                start=(px(cx), px(y + col_h - 3)),
                end=(px(cx), px(y + col_h)),
                stroke="#666666",
                stroke_width=0.5,
            )
        )
    cv.body.add(g)
    y += col_h
    grid_y = y
    # the image: one pixel per cell, upscaled so filtering viewers keep cells crisp
    n = len(palette) - 1
    lut = np.array([parse_color(c) for c in palette] + [parse_color(P.MUTED)], dtype=np.uint8)
    idx = np.clip(np.floor(np.nan_to_num(m.values) * n), 0, n).astype(int)
    idx[~m.valid] = n + 1
    # about 2 image pixels per figure pixel: viewers that smooth images blur only cell edges
    fx = max(1, min(math.ceil(2 * cell_w), 4096 // n_cols))
    fy = max(1, min(math.ceil(2 * cell_h), 4096 // n_rows))
    img = np.repeat(np.repeat(lut[idx], fy, axis=0), fx, axis=1)
    href = "data:image/png;base64," + base64.b64encode(png_bytes(img)).decode("ascii")
    image = cv.dwg.image(
        href=href, insert=(px(x0), px(y)), size=(px(cell_w * n_cols), px(cell_h * n_rows))
    )
    image["preserveAspectRatio"] = "none"
    image["image-rendering"] = "optimizeSpeed"
    image["style"] = "image-rendering:pixelated"
    image["class"] = "nh-dense"
    cv.body.add(image)
    # row ticks
    step_r = max(1, math.ceil(1.2 * font_size / cell_h))
    g = cv.dwg.g(**{"class": "nh-row-labels"})
    for r in range(0, n_rows, step_r):
        lab = fit_text(m.labels[r] or " ", label_w - 6, font_size, fonts)
        cy = y + (r + 0.5) * cell_h
        for box in lab.boxes:
            cv.writer.draw(g, box, x0 - 6 - lab.width, cy - lab.line_height / 2, fill="#222222")
        g.add(
            cv.dwg.line(
                start=(px(x0 - 3), px(cy)), end=(px(x0), px(cy)), stroke="#666666", stroke_width=0.5
            )
        )
    cv.body.add(g)
    if m.prompt_length is not None and 0 < m.prompt_length < n_cols:
        lx = x0 + m.prompt_length * cell_w
        cv.body.add(
            cv.dwg.line(
                start=(px(lx), px(y)),
                end=(px(lx), px(y + n_rows * cell_h)),
                stroke="#000000",
                stroke_width=1,
                stroke_dasharray="3,2",
                **{"class": "nh-prompt-end"},
            )
        )
    y += n_rows * cell_h
    cv.width = max(width, x0 + n_cols * cell_w + font_size / 2)
    y = draw_colorbar(cv, palette, x0, y + 0.6 * font_size, min(240.0, n_cols * cell_w))
    fig = cv.finish(y + font_size / 2, f"dense saliency: {n_rows} targets x {n_cols} tokens")
    fig.facets, fig.focus = [], None
    fig.cell = (x0, grid_y, cell_w, cell_h)  # grid origin and cell size, for tests
    return fig
