"""What every SVG figure of neuroheat shares: inline display in notebooks, ``save``, and
the rounding of coordinates written into the SVG.

Example:
    >>> fig = SVGFigure(size=(10, 10))
    >>> fig.save("empty.pdf")   # doctest: +SKIP
    >>> px(1.23456), px(0.123456, 4)
    (1.23, 0.1235)
"""

from __future__ import annotations

from pathlib import Path

import svgwrite

from neuroheat.deprecation import renamed
from neuroheat.viz.export import save as export


def px(v: float, nd: int = 2) -> float:
    """A coordinate (or opacity, with ``nd=4``) rounded as written into the SVG: short files,
    and the same bytes on every machine."""
    return round(float(v), nd)


class SVGFigure(svgwrite.Drawing):
    """An ``svgwrite.Drawing`` that displays inline in Jupyter and saves to svg/png/pdf."""

    def _repr_svg_(self) -> str:
        return self.tostring()

    def save(self, path: str | Path | None = None, *, scale: float = 2.0,  # type: ignore[override]
             pretty: bool = False, indent: int = 2) -> Path | None:
        """Write the figure to ``path``; the format follows the suffix: .svg, .png or .pdf
        (vector). Without ``path``, svgwrite's ``save()``: SVG to the drawing's ``filename``."""
        if path is None:
            super().save(pretty=pretty, indent=indent)
            return None
        return export(self, path, scale=scale)

    def save_as(self, path: str | Path, *, scale: float = 2.0) -> Path:
        """Deprecated spelling of :meth:`save`."""
        renamed("figure.save_as(path)", "figure.save(path)")
        return export(self, path, scale=scale)
