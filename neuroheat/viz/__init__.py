"""Rendering: text layout, colour scales, activation heatmaps and saliency views (SVG/PNG/PDF,
offline HTML). Pure rendering: nothing here runs a model or an analysis, or reads a store;
every function draws the words, arrays and records it is given (:mod:`neuroheat.report`
assembles them from a store).

Sub-packages, one concept each: :mod:`~neuroheat.viz.text` (fonts, shaping, bidi layout, glyph
paths), :mod:`~neuroheat.viz.color` (scales, palettes), :mod:`~neuroheat.viz.html` (page shell,
CSP, inlined assets), :mod:`~neuroheat.viz.activations` (heatmap figure, neuron card,
activation page), :mod:`~neuroheat.viz.saliency` (facets and views, one registry of views);
:mod:`~neuroheat.viz.dashboard` (neuron dashboards: a static site, one neuron's page);
:mod:`~neuroheat.viz.charts` (probing charts over plain numbers); :mod:`~neuroheat.viz.export`
saves figures. The NeuroX- and textualheatmap-shaped entry points
(:class:`TransformersVisualizer`, :class:`TextualHeatmap`) live in :mod:`neuroheat.compat` and
are re-exported here. Every name loads on first use, so ``import neuroheat.viz`` (and the CLI,
which lists the saliency views) stays cheap.

Example:
    >>> import neuroheat.viz as viz
    >>> dwg = viz.visualize_activations(["The", "cat"], [0.5, -1.0])
    >>> dwg.save("cat.svg")   # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

# name -> module that defines it; loaded on first access (PEP 562). The entry points of
# neuroheat.compat import this package's modules, so they could not be imported eagerly here.
_EXPORTS = {
    "ActivationDrawing": "neuroheat.viz.activations.draw",
    "ActivationHTML": "neuroheat.viz.activations.page",
    "CardContext": "neuroheat.viz.activations.card",
    "ColorScale": "neuroheat.viz.color.scales",
    "ExportError": "neuroheat.viz.export",
    "FontStack": "neuroheat.viz.text.fonts",
    "NeuronPage": "neuroheat.viz.dashboard.page",
    "RenderStyle": "neuroheat.viz.activations.style",
    "SaliencyDrawing": "neuroheat.viz.saliency.draw",
    "SaliencyHTML": "neuroheat.viz.saliency.page",
    "TextLayout": "neuroheat.viz.text.layout",
    "TokenBox": "neuroheat.viz.text.layout",
    "TransformersVisualizer": "neuroheat.compat.neurox",
    "activation_html": "neuroheat.viz.activations.page",
    "convert": "neuroheat.viz.export",
    "default_font_stack": "neuroheat.viz.text.fonts",
    "draw_neuron_card": "neuroheat.viz.activations.card",
    "font_stack": "neuroheat.viz.text.fonts",
    "layout_tokens": "neuroheat.viz.text.layout",
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
    "write_site": "neuroheat.viz.dashboard.site",
}
# Modules re-exported under their old flat names.
_MODULES = {"saliency_palette": "neuroheat.viz.color.saliency_palette"}
# Deprecated: names that read a store or run an analysis moved to neuroheat.report (viz only
# draws). Looked up by name on access: viz does not depend on report.
_MOVED = {
    "NeuronReport": "neuroheat.report",
    "TextualHeatmap": "neuroheat.compat",  # the drop-in's one home, beside TransformersVisualizer
    "activation_html_from_store": "neuroheat.report",
    "build_site": "neuroheat.report",
    "neuron_card": "neuroheat.report",
    "neuron_report": "neuroheat.report",
}

__all__ = sorted(_EXPORTS)


def moved(package: str, name: str, home: str) -> Any:
    """``name`` from its new ``home`` module, with a DeprecationWarning naming the new
    spelling (``package.name`` is the old one)."""
    warnings.warn(f"{package}.{name} moved to {home}.{name}; {package}.{name} is deprecated",
                  DeprecationWarning, stacklevel=3)
    return getattr(importlib.import_module(home), name)


def __getattr__(name: str) -> Any:
    if name in _MOVED:  # not cached: every use warns
        return moved(__name__, name, _MOVED[name])
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
