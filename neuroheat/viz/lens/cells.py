"""What the lens table and page share: the cell values, their colours, and the direction.

Example:
    >>> grid = lens_grid({"tokens": ["a"], "layers": [0, 1], "entropy": [[1.0], [0.5]],
    ...                   "top": [[[["b", 0.5]]], [[["c", 0.9]]]]})
    >>> grid.label, grid.rows[0][0].text
    ('entropy (nats)', 'c')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from neuroheat.errors import InputError
from neuroheat.viz.color.scales import SEQUENTIAL, interpolate, parse_color

COLORS = ("entropy", "target")


@dataclass(frozen=True)
class Cell:
    """One (layer, position): the top token, its colour, and the top-K rows for hover."""

    text: str
    value: float
    fill: str
    ink: str
    top: list[tuple[str, float]]


@dataclass(frozen=True)
class LensGrid:
    """Rows from the last layer (top) down to layer 0, columns in token order."""

    tokens: list[str]
    layers: list[int]          # one per row, top row first
    rows: list[list[Cell]]
    label: str                 # what the colour shows
    vmin: float
    vmax: float
    palette: list[str]
    rtl: bool


def _ink(fill: str) -> str:
    r, g, b = parse_color(fill)
    return "#ffffff" if 0.299 * r + 0.587 * g + 0.114 * b < 140 else "#000000"


def lens_grid(data: Mapping[str, Any], color: str | None = None,
              direction: str = "auto") -> LensGrid:
    """The cells of a lens result dict (keys of :class:`~neuroheat.lens.LensResult`).

    ``color``: ``entropy`` (default; low = confident = bright) or ``target`` (the target's
    log-probability; needs ``data["target"]``).
    """
    color = color or "entropy"
    if color not in COLORS:
        raise InputError(f"color must be one of {', '.join(COLORS)}, not {color!r}")
    for key in ("tokens", "layers", "top", "entropy"):
        if key not in data:
            raise InputError(f"lens data has no {key!r}: pass a LensResult's to_dict()")
    if color == "target":
        if not data.get("target"):
            raise InputError("color='target' needs a target token (--target TOKEN)")
        values: Sequence[Sequence[float]] = data["target"]["logprob"]
        label = f"log p({data['target']['token']})"
        palette = list(SEQUENTIAL["viridis"])
    else:
        values = data["entropy"]
        label = "entropy (nats)"
        palette = list(reversed(SEQUENTIAL["viridis"]))
    shape = (len(data["layers"]), len(data["tokens"]))
    for key, table in (("top", data["top"]), (label, values)):
        if len(table) != shape[0] or any(len(row) != shape[1] for row in table):
            raise InputError(f"lens data: {key} is not [layers][positions] = {list(shape)}")
    flat = [float(v) for row in values for v in row if math.isfinite(float(v))]
    vmin, vmax = (min(flat), max(flat)) if flat else (0.0, 1.0)
    if color == "entropy":
        vmin = 0.0
    if color == "target":
        vmax = max(vmax, vmin + 1e-9)
    span = (vmax - vmin) or 1.0
    rows = []
    for i in reversed(range(len(data["layers"]))):
        row = []
        for t in range(len(data["tokens"])):
            v = float(values[i][t])
            fill = interpolate(palette, (v - vmin) / span) if math.isfinite(v) else "#cccccc"
            top = [(str(name), float(p)) for name, p in data["top"][i][t]]
            row.append(Cell(top[0][0] if top else "", v, fill, _ink(fill), top))
        rows.append(row)
    rtl = _resolve_rtl(data["tokens"], direction)
    return LensGrid(list(data["tokens"]), list(reversed(data["layers"])), rows, label, vmin,
                    vmax, palette, rtl)


def _resolve_rtl(tokens: Sequence[str], direction: str) -> bool:
    d = str(direction).lower()
    if d not in ("ltr", "rtl", "auto"):
        raise InputError(f"direction must be 'ltr', 'rtl' or 'auto', not {direction!r}")
    if d != "auto":
        return d == "rtl"
    from bidi import get_base_level

    joined = "".join(tokens)
    return bool(joined.strip()) and get_base_level(joined) == 1
