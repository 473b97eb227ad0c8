"""Figures of the lens jobs, drawn from plain data (the results' ``to_dict()``):

- :func:`lens_table_svg`: the layer x position table of a logit / tuned lens (tuned-lens'
  prediction-trajectory plot), each cell the top token coloured by entropy or by the target's
  log-probability; right-to-left text puts position 0 on the right;
- :func:`lens_html`: the same table as an offline page (strict CSP, no script), top-K on hover;
- :func:`dla_bars_svg`: a bar chart of direct logit attribution (components, top neurons).

This package imports no model, analysis or lens code.

Example:
    >>> fig = lens_table_svg(result.to_dict())   # doctest: +SKIP
    >>> fig.save("lens.svg")                  # doctest: +SKIP
"""

from neuroheat.viz.lens.bars import dla_bars_svg
from neuroheat.viz.lens.page import lens_html
from neuroheat.viz.lens.table import lens_table_svg

__all__ = ["dla_bars_svg", "lens_html", "lens_table_svg"]
