"""The one registry of static saliency views, and the writer behind
``neuroheat saliency ... -o OUT.svg|.png|.pdf|.html [--view VIEW]``.

Each :class:`View` names the function that draws it; the function is imported only when the
view is drawn, so the CLI can list the views without loading the text engine. Adding a view is
one entry here.

Example:
    >>> sorted(VIEWS)
    ['dense', 'focus', 'minimap', 'tall']
    >>> write_view(sal, "cat.svg", view="tall")   # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuroheat.errors import InputError

SUFFIXES = (".svg", ".png", ".pdf", ".html")


@dataclass(frozen=True)
class View:
    """A static view: ``function`` of ``module`` called as ``function(sal, **options)``."""

    name: str
    module: str
    function: str
    options: Mapping[str, Any] = field(default_factory=dict)
    help: str = ""

    def render(self, sal: Any) -> Any:
        """The drawing (with ``save``) of this view of ``sal``."""
        draw = getattr(importlib.import_module(self.module), self.function)
        return draw(sal, **self.options)


VIEWS: dict[str, View] = {
    v.name: v
    for v in (
        View("focus", "neuroheat.viz.saliency.focus", "saliency_svg", {"show_meta": True},
             "textualheatmap's look, one focus token"),
        View("minimap", "neuroheat.viz.saliency.views", "saliency_minimap_svg",
             help="one thumbnail per target"),
        View("tall", "neuroheat.viz.saliency.views", "saliency_tall_svg",
             help="input tokens as bars, one row per target"),
        View("dense", "neuroheat.viz.saliency.dense", "saliency_dense_svg",
             help="a dense heatmap for long texts"),
    )
}


def render_view(sal: Any, view: str = "focus") -> Any:
    """The static figure ``view`` of ``sal`` (a drawing with ``save``)."""
    if view not in VIEWS:
        raise InputError(f"unknown view {view!r}; choose one of {', '.join(VIEWS)}")
    return VIEWS[view].render(sal)


def write_view(sal: Any, path: str | Path, view: str = "focus") -> Path:
    """Write ``sal`` to ``path``: ``.html`` is the interactive page, ``.svg``/``.png``/``.pdf``
    the static ``view``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"cannot write {path.name!r}: views save as {', '.join(SUFFIXES)}")
    if suffix == ".html":
        if view != "focus":
            raise InputError(
                f"--view {view} is a static figure: write it to .svg, .png or .pdf "
                "(.html is the interactive page, which has every target)"
            )
        from neuroheat.viz.saliency.page import saliency_html

        return saliency_html(sal).save(path)
    return render_view(sal, view).save(path)
