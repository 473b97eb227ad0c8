"""What every SVG figure of neuroheat shares: inline display in notebooks, ``save_as``, and
the rounding of coordinates written into the SVG.

Example:
    >>> fig = SVGFigure(size=(10, 10))
    >>> fig.save_as("empty.pdf")   # doctest: +SKIP
    >>> px(1.23456), px(0.123456, 4)
    (1.23, 0.1235)
"""

from __future__ import annotations

from pathlib import Path

import svgwrite

from neuroheat.viz.export import save


def px(v: float, nd: int = 2) -> float:
    """A coordinate (or opacity, with ``nd=4``) rounded as written into the SVG: short files,
    and the same bytes on every machine."""
    return round(float(v), nd)


class SVGFigure(svgwrite.Drawing):
    """An ``svgwrite.Drawing`` that displays inline in Jupyter and saves to svg/png/pdf."""

    def _repr_svg_(self) -> str:
        return self.tostring()

    def save_as(self, path: str | Path, *, scale: float = 2.0) -> Path:
        """Write the figure; the format follows the suffix: .svg, .png or .pdf (vector)."""
        return save(self, path, scale=scale)
