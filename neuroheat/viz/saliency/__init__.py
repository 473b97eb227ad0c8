"""Saliency views: textualheatmap facets (:mod:`.data`), the focus and comparison figures
(:mod:`.focus`), minimap / tall / continuations (:mod:`.views`), the dense heatmap
(:mod:`.dense`), the interactive page (:mod:`.page`) and the one registry of static views
(:mod:`.registry`, which the CLI reads). The drawing pieces they share are in :mod:`.draw`.

This package's ``__init__`` imports nothing, so that reading the registry stays cheap; import
the functions from their modules or from :mod:`neuroheat.viz`.

Example:
    >>> from neuroheat.viz.saliency.registry import VIEWS
    >>> VIEWS["tall"].render(sal).save("tall.svg")   # doctest: +SKIP
"""
