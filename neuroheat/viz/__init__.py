"""Rendering: text layout, colour scales, activation heatmaps (SVG/PNG/PDF).

Never imports torch at module level; :class:`TransformersVisualizer` loads a model lazily.

Example:
    >>> import neuroheat.viz as viz
    >>> dwg = viz.visualize_activations(["The", "cat"], [0.5, -1.0])
    >>> dwg.save_as("cat.svg")   # doctest: +SKIP
"""

from neuroheat.viz.activations_svg import (
    ActivationDrawing,
    visualize_activations,
    visualize_sentences,
)
from neuroheat.viz.colors import ColorScale
from neuroheat.viz.export import ExportError, convert, save
from neuroheat.viz.fonts import FontStack, default_font_stack, font_stack
from neuroheat.viz.layout import TextLayout, TokenBox, layout_tokens
from neuroheat.viz.neuron_card import neuron_card
from neuroheat.viz.transformers_visualizer import TransformersVisualizer

__all__ = [
    "ActivationDrawing",
    "ColorScale",
    "ExportError",
    "FontStack",
    "TextLayout",
    "TokenBox",
    "TransformersVisualizer",
    "convert",
    "default_font_stack",
    "font_stack",
    "layout_tokens",
    "neuron_card",
    "save",
    "visualize_activations",
    "visualize_sentences",
]
