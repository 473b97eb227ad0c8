"""Colour scales: NeuroX's two-colour opacity scale, sequential and diverging colour maps.

:class:`ColorScale` maps an activation to ``(hex colour, opacity)``.

- ``cmap=None`` (default) is NeuroX's scale: ``colors[0]`` for negative values, ``colors[1]``
  for positive, opacity ``|a| / limit`` where ``limit = max |a|`` (or ``max(|vmin|, |vmax|)``),
  and ``darken`` layers stacked: ``1 - (1 - o) ** darken``, exactly what NeuroX's ``darken``
  stacked rectangles composite to. Zero maps to no colour.
- ``cmap="viridis"`` and other sequential maps send ``vmin..vmax`` to the map, opaque.
- ``cmap="RdBu"`` and other diverging maps centre on 0: ``-limit..limit``.

Example:
    >>> scale = ColorScale([-2.0, 0.0, 1.0])
    >>> scale(-2.0)
    ('#d35f5f', 1.0)
    >>> scale(0.0)[1]
    0.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from neuroheat.errors import InputError

# NeuroX's colours (negative, positive): the default of every activation figure.
NEUROX_COLORS: tuple[str, str] = ("#d35f5f", "#00aad4")

# Anchor colours, evenly spaced; values in between are interpolated linearly in sRGB.
SEQUENTIAL = {
    "viridis": ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779",
                "#6ece58", "#b5de2b", "#fde725"],
    "magma": ["#000004", "#1c1044", "#4f127b", "#812581", "#b5367a", "#e55064", "#fb8761",
              "#fec287", "#fcfdbf"],
    # every 12th of textualheatmap's 97 colours (viridis 0.29..0.667), see saliency_palette
    "textualheatmap": ["#365d8d", "#30698e", "#2b748e", "#27808e", "#228b8d", "#1f968b",
                       "#1fa187", "#26ad81", "#35b779"],
    "blues": ["#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"],
    "reds": ["#fff5f0", "#fcbba1", "#fb6a4a", "#cb181d", "#67000d"],
    "greys": ["#ffffff", "#bdbdbd", "#737373", "#252525", "#000000"],
}
DIVERGING = {
    "rdbu": ["#67001f", "#d6604d", "#f4a582", "#f7f7f7", "#92c5de", "#4393c3", "#053061"],
    "coolwarm": ["#3b4cc0", "#7b9ff9", "#c0d4f5", "#f2f2f2", "#f5c4ad", "#ee8468", "#b40426"],
    "puor": ["#7f3b08", "#e08214", "#fdb863", "#f7f7f7", "#b2abd2", "#8073ac", "#2d004b"],
    "neurox": [NEUROX_COLORS[0], "#ffffff", NEUROX_COLORS[1]],
}


def parse_color(color: str) -> tuple[int, int, int]:
    """``"#rgb"`` or ``"#rrggbb"`` -> (r, g, b) in 0..255."""
    c = str(color).strip()
    if c.startswith("#") and len(c) == 4:
        c = "#" + "".join(ch * 2 for ch in c[1:])
    if not (c.startswith("#") and len(c) == 7):
        raise InputError(f"colour {color!r} is not a hex colour like '#d35f5f'")
    try:
        return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)
    except ValueError:
        raise InputError(f"colour {color!r} is not a hex colour like '#d35f5f'") from None


def to_hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(v))):02x}" for v in rgb)


def interpolate(colors: Sequence[str], t: float) -> str:
    """Colour at ``t`` in [0, 1] along evenly spaced anchor ``colors``."""
    rgbs = [parse_color(c) for c in colors]
    if len(rgbs) == 1:
        return to_hex(rgbs[0])
    t = min(max(float(t), 0.0), 1.0) * (len(rgbs) - 1)
    i = min(int(t), len(rgbs) - 2)
    f = t - i
    a, b = rgbs[i], rgbs[i + 1]
    return to_hex([a[k] + (b[k] - a[k]) * f for k in range(3)])


def luminance(color: str) -> float:
    """Relative luminance (WCAG) of a hex colour, 0 (black) .. 1 (white)."""

    def lin(v: float) -> float:
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = parse_color(color)
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def composite_on_white(color: str, opacity: float) -> str:
    r, g, b = parse_color(color)
    return to_hex([255 + (v - 255) * opacity for v in (r, g, b)])


class ColorScale:
    """Maps activation values to (colour, opacity); see the module docstring.

    Args:
        values: the activations the scale must cover (used where vmin/vmax are None).
        colors: NeuroX colours (negative, positive) for ``cmap=None``.
        darken: NeuroX darken (number of stacked layers, >= 0) for ``cmap=None``.
        vmin, vmax: explicit limits so several figures share one scale.
        cmap: None, a name (see :data:`SEQUENTIAL`, :data:`DIVERGING`) or a list of hex colours
            (sequential unless ``diverging=True``).
    """

    def __init__(
        self,
        values: Sequence[float] | np.ndarray,
        *,
        colors: Sequence[str] = NEUROX_COLORS,
        darken: int = 2,
        vmin: float | None = None,
        vmax: float | None = None,
        cmap: str | Sequence[str] | None = None,
        diverging: bool | None = None,
    ) -> None:
        if isinstance(colors, str) or len(colors) != 2:
            raise InputError(
                f"colors must be two hex colours (negative, positive), got {colors!r}"
            )
        self.colors = (to_hex(parse_color(colors[0])), to_hex(parse_color(colors[1])))
        if darken is None or int(darken) != darken or darken < 0:
            raise InputError(f"darken must be a whole number >= 0, not {darken!r}")
        self.darken = int(darken)
        for name, v in (("vmin", vmin), ("vmax", vmax)):
            if v is not None and not math.isfinite(float(v)):
                raise InputError(f"{name} must be a finite number, not {v!r}")
        arr = np.asarray(values, dtype=np.float64).ravel()
        dmin = float(arr.min()) if arr.size else 0.0
        dmax = float(arr.max()) if arr.size else 0.0
        self.vmin = float(vmin) if vmin is not None else dmin
        self.vmax = float(vmax) if vmax is not None else dmax
        if self.vmin > self.vmax:
            raise InputError(f"vmin ({self.vmin}) is larger than vmax ({self.vmax}); swap them")
        self.limit = max(abs(self.vmin), abs(self.vmax))
        self.anchors: list[str] | None = None
        self.diverging = True
        if cmap is not None:
            if isinstance(cmap, str):
                key = cmap.lower()
                if key in SEQUENTIAL:
                    self.anchors, self.diverging = SEQUENTIAL[key], False
                elif key in DIVERGING:
                    self.anchors, self.diverging = DIVERGING[key], True
                else:
                    names = sorted(SEQUENTIAL) + sorted(DIVERGING)
                    raise InputError(
                        f"unknown colour map {cmap!r}; choose one of {', '.join(names)} "
                        "or pass a list of hex colours"
                    )
            else:
                self.anchors = [to_hex(parse_color(c)) for c in cmap]
                if not self.anchors:
                    raise InputError("a colour map needs at least one colour")
                self.diverging = bool(diverging)
            if diverging is not None:
                self.diverging = bool(diverging)
        self.name = cmap if isinstance(cmap, str) else ("custom" if cmap else "neurox")

    @property
    def is_neurox(self) -> bool:
        return self.anchors is None

    def position(self, value: float) -> float:
        """Where ``value`` falls on the colour bar, 0..1."""
        if self.diverging or self.is_neurox:
            if self.limit == 0:
                return 0.5
            return min(max(0.5 + 0.5 * value / self.limit, 0.0), 1.0)
        span = self.vmax - self.vmin
        return 0.0 if span == 0 else min(max((value - self.vmin) / span, 0.0), 1.0)

    def __call__(self, value: float) -> tuple[str, float]:
        """(hex colour, opacity) for one activation."""
        value = float(value)
        if self.is_neurox:
            color = self.colors[1] if value > 0 else self.colors[0]
            if self.limit == 0 or value == 0:
                return color, 0.0
            o = min(abs(value) / self.limit, 1.0)
            return color, 1.0 - (1.0 - o) ** self.darken
        return interpolate(self._anchors(), self.position(value)), 1.0

    def at(self, t: float) -> tuple[str, float]:
        """(colour, opacity) at position ``t`` (0..1) of the colour bar."""
        if self.is_neurox:
            return self(((t - 0.5) * 2) * self.limit if self.limit else 0.0)
        return interpolate(self._anchors(), t), 1.0

    def _anchors(self) -> Sequence[str]:
        if self.anchors is None:  # internal invariant: every non-NeuroX scale has anchors
            raise RuntimeError("colour scale without anchor colours")
        return self.anchors

    def effective(self, value: float) -> str:
        """The opaque colour a reader sees on a white background."""
        color, opacity = self(value)
        return composite_on_white(color, opacity)
