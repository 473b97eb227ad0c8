"""Rendering: text layout, colour scales, activation heatmaps and saliency views (SVG/PNG/PDF,
offline HTML). Pure rendering: nothing here runs a model.

Sub-packages, one concept each: :mod:`~neuroheat.viz.text` (fonts, shaping, bidi layout, glyph
paths), :mod:`~neuroheat.viz.color` (scales, palettes), :mod:`~neuroheat.viz.html` (page shell,
CSP, inlined assets), :mod:`~neuroheat.viz.activations` (heatmap figure, neuron card,
activation page), :mod:`~neuroheat.viz.saliency` (facets and views, one registry of views);
:mod:`~neuroheat.viz.dashboard` (neuron dashboards: a static site, one neuron's page);
:mod:`~neuroheat.viz.export` saves figures. The NeuroX- and textualheatmap-shaped entry points
(:class:`TransformersVisualizer`, :class:`TextualHeatmap`) live in :mod:`neuroheat.compat` and
are re-exported here. Every name loads on first use, so ``import neuroheat.viz`` (and the CLI,
which lists the saliency views) stays cheap.

Example:
    >>> import neuroheat.viz as viz
    >>> dwg = viz.visualize_activations(["The", "cat"], [0.5, -1.0])
    >>> dwg.save_as("cat.svg")   # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> module that defines it; loaded on first access (PEP 562). The entry points of
# neuroheat.compat import this package's modules, so they could not be imported eagerly here.
_EXPORTS = {
    "ActivationDrawing": "neuroheat.viz.activations.draw",
    "ActivationHTML": "neuroheat.viz.activations.page",
    "ColorScale": "neuroheat.viz.color.scales",
    "ExportError": "neuroheat.viz.export",
    "FontStack": "neuroheat.viz.text.fonts",
    "NeuronReport": "neuroheat.viz.dashboard.report",
    "RenderStyle": "neuroheat.viz.activations.style",
    "SaliencyDrawing": "neuroheat.viz.saliency.draw",
    "SaliencyHTML": "neuroheat.viz.saliency.page",
    "TextLayout": "neuroheat.viz.text.layout",
    "TextualHeatmap": "neuroheat.compat.textualheatmap",
    "TokenBox": "neuroheat.viz.text.layout",
    "TransformersVisualizer": "neuroheat.compat.neurox",
    "activation_html": "neuroheat.viz.activations.page",
    "activation_html_from_store": "neuroheat.viz.activations.page",
    "convert": "neuroheat.viz.export",
    "default_font_stack": "neuroheat.viz.text.fonts",
    "font_stack": "neuroheat.viz.text.fonts",
    "build_site": "neuroheat.viz.dashboard.build",
    "layout_tokens": "neuroheat.viz.text.layout",
    "neuron_card": "neuroheat.viz.activations.card",
    "neuron_report": "neuroheat.viz.dashboard.report",
    "saliency_compare_svg": "neuroheat.viz.saliency.focus",
    "saliency_continuations_svg": "neuroheat.viz.saliency.views",
    "saliency_dense_svg": "neuroheat.viz.saliency.dense",
    "saliency_html": "neuroheat.viz.saliency.page",
    "saliency_minimap_svg": "neuroheat.viz.saliency.views",
    "saliency_svg": "neuroheat.viz.saliency.focus",
    "saliency_tall_svg": "neuroheat.viz.saliency.views",
    "save": "neuroheat.viz.export",
    "visualize_activations": "neuroheat.viz.activations.figure",
    "visualize_sentences": "neuroheat.viz.activations.figure",
}
# Modules re-exported under their old flat names.
_MODULES = {"saliency_palette": "neuroheat.viz.color.saliency_palette"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _MODULES:
        value = importlib.import_module(_MODULES[name])
    else:
        raise AttributeError(f"module 'neuroheat.viz' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | set(_MODULES))
