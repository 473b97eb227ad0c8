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

# Saliency views (textualheatmap- and ecco-style) and interactive offline HTML pages.
from neuroheat.viz.activation_html import (  # noqa: E402
    ActivationHTML,
    activation_html,
    activation_html_from_store,
)
from neuroheat.viz.saliency_dense import saliency_dense_svg  # noqa: E402
from neuroheat.viz.saliency_html import SaliencyHTML, saliency_html  # noqa: E402
from neuroheat.viz.saliency_svg import (  # noqa: E402
    SaliencyDrawing,
    saliency_compare_svg,
    saliency_svg,
)
from neuroheat.viz.saliency_views import (  # noqa: E402
    saliency_continuations_svg,
    saliency_minimap_svg,
    saliency_tall_svg,
)
from neuroheat.viz.textual_heatmap import TextualHeatmap  # noqa: E402

__all__ += [
    "ActivationHTML",
    "SaliencyDrawing",
    "SaliencyHTML",
    "TextualHeatmap",
    "activation_html",
    "activation_html_from_store",
    "saliency_compare_svg",
    "saliency_continuations_svg",
    "saliency_dense_svg",
    "saliency_html",
    "saliency_minimap_svg",
    "saliency_svg",
    "saliency_tall_svg",
]
