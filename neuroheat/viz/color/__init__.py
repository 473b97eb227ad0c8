"""Colour: activation scales (:mod:`.scales`: NeuroX colours, colour maps, compositing) and
the saliency palettes (:mod:`.saliency_palette`: textualheatmap's viridis slice, diverging).

Example:
    >>> from neuroheat.viz.color import ColorScale
    >>> ColorScale([-1.0, 1.0])(1.0)
    ('#00aad4', 1.0)
"""

from neuroheat.viz.color.scales import NEUROX_COLORS, ColorScale

__all__ = ["NEUROX_COLORS", "ColorScale"]
