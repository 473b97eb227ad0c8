"""Colours of the saliency views: textualheatmap's viridis slice and a diverging scale.

textualheatmap colours a heat value ``h`` in [0, 1] with one of 97 colours: the viridis
colour map (d3's ``interpolateViridis``, i.e. matplotlib's 256-entry viridis table) sampled at
``0.29 + k / 96 * (2/3 - 0.29)`` for ``k = 0..96``, and picks ``k = floor(h * 96)``. We store
the viridis table entries 74..170 that this slice reaches (matplotlib's viridis data is CC0)
and derive the same 97 colours, from ``#365d8d`` to ``#35b779``; ``tests/viz`` checks them
against matplotlib when it is installed.

The diverging scale compares two targets: ``d = heat_a - heat_b`` in [-1, 1], orange where
target A draws more on a token, purple where B does (PuOr, colour-blind safe), grey-white at 0.

Example:
    >>> heat_color(0.0), heat_color(1.0)
    ('#365d8d', '#35b779')
    >>> heat_index(0.5)
    48
"""

from __future__ import annotations

import math

import numpy as np

from neuroheat.viz.color.scales import interpolate, luminance

# matplotlib viridis table entries 74..170 (hex RGB), the part the textualheatmap slice uses.
_VIRIDIS_74_170 = (
    "365d8d355e8d355f8d34608d34618d33628d33638d32648e32658e31668e31678e31688e30698e306a8e"
    "2f6b8e2f6c8e2e6d8e2e6e8e2e6f8e2d708e2d718e2c718e2c728e2c738e2b748e2b758e2a768e2a778e"
    "2a788e29798e297a8e297b8e287c8e287d8e277e8e277f8e27808e26818e26828e26828e25838e25848e"
    "25858e24868e24878e23888e23898e238a8d228b8d228c8d228d8d218e8d218f8d21908d21918c20928c"
    "20928c20938c1f948c1f958b1f968b1f978b1f988b1f998a1f9a8a1e9b8a1e9c891e9d891f9e891f9f88"
    "1fa0881fa1881fa1871fa28720a38620a48621a58521a68522a78522a88423a98324aa8325ab8225ac82"
    "26ad8127ad8128ae8029af7f2ab07f2cb17e2db27d2eb37c2fb47c31b57b32b67a34b67935b779"
)
_LOW, _HIGH = 0.29, 2 / 3  # the slice of viridis textualheatmap uses
LEVELS = 96  # heat h -> colour index floor(h * LEVELS), 0..LEVELS


def _slice_palette() -> tuple[str, ...]:
    table = ["#" + _VIRIDIS_74_170[i : i + 6] for i in range(0, len(_VIRIDIS_74_170), 6)]
    out = []
    for k in range(LEVELS + 1):
        lut_index = math.floor(256 * (_LOW + k * (_HIGH - _LOW) / LEVELS))
        out.append(table[lut_index - 74])
    return tuple(out)


PALETTE: tuple[str, ...] = _slice_palette()
"""The 97 colours of textualheatmap's palette, index ``floor(h * 96)``."""

DIVERGING_ANCHORS = ("#b35806", "#f1a340", "#fee0b6", "#f7f7f7", "#d8daeb", "#998ec3", "#542788")
DIVERGING_LEVELS = 64  # d in [-1, 1] -> index round((d + 1) / 2 * 64), 0..64
DIVERGING: tuple[str, ...] = tuple(
    interpolate(DIVERGING_ANCHORS[::-1], i / DIVERGING_LEVELS) for i in range(DIVERGING_LEVELS + 1)
)
"""65 colours from purple (B stronger, d = -1) through white (0) to orange (A stronger, d = 1)."""

# The rest of textualheatmap's look.
CONTENT_BG = PALETTE[0]
TEXT = "#ffffff"
META_BG = "#f3f3f3"
META_BORDER = "#e0e0e0"
TITLE_BG = "#eeeeee"
TITLE_TEXT = "#555555"
MUTED = "#e8e8e8"  # cells that cannot carry saliency (a causal target's future tokens)


def heat_index(h: float) -> int:
    """textualheatmap's colour index of heat ``h``: ``floor(h * 96)`` clamped to 0..96."""
    h = float(h)
    if not math.isfinite(h):
        return 0
    return max(0, min(LEVELS, math.floor(h * LEVELS)))


def heat_color(h: float) -> str:
    """textualheatmap's colour of heat ``h`` (values outside [0, 1] are clamped)."""
    return PALETTE[heat_index(h)]


def diverging_index(d: float) -> int:
    """Index into :data:`DIVERGING` of ``d = heat_a - heat_b`` in [-1, 1]."""
    d = float(d)
    if not math.isfinite(d):
        return DIVERGING_LEVELS // 2
    d = max(-1.0, min(1.0, d))
    return int(math.floor((d + 1) / 2 * DIVERGING_LEVELS + 0.5))


def diverging_color(d: float) -> str:
    """Colour of ``d = heat_a - heat_b``: orange where A is stronger, purple where B is."""
    return DIVERGING[diverging_index(d)]


def text_on(background: str) -> str:
    """Black or white text, whichever reads better on ``background``."""
    return "#000000" if luminance(background) > 0.3 else "#ffffff"


def sequential(cmap: str | None) -> tuple[str, ...]:
    """A sequential palette by name: ``"textualheatmap"`` (default) or a :mod:`colors` name."""
    if cmap is None or str(cmap).lower() == "textualheatmap":
        return PALETTE
    from neuroheat.errors import InputError
    from neuroheat.viz.color.scales import SEQUENTIAL

    key = str(cmap).lower()
    if key not in SEQUENTIAL:
        raise InputError(
            f"unknown colour map {cmap!r}; choose textualheatmap or one of {', '.join(SEQUENTIAL)}"
        )
    return tuple(interpolate(SEQUENTIAL[key], i / LEVELS) for i in range(LEVELS + 1))


def colors_of(values: np.ndarray, palette: tuple[str, ...] = PALETTE) -> list[str]:
    """Colour of every heat value (textualheatmap's floor rule over ``palette``)."""
    n = len(palette) - 1
    v = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0)
    idx = np.clip(np.floor(v * n), 0, n).astype(int)
    return [palette[i] for i in idx.ravel()]
