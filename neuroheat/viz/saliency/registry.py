"""Writers behind ``neuroheat saliency ... -o OUT.svg|.png|.pdf|.html [--view VIEW]``.

Example:
    >>> write_view(sal, "cat.svg", view="tall")   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neuroheat.errors import InputError

VIEWS = ("focus", "minimap", "tall", "dense")
SUFFIXES = (".svg", ".png", ".pdf", ".html")


def render_view(sal: Any, view: str = "focus") -> Any:
    """The static figure ``view`` of ``sal`` (a drawing with ``save_as``)."""
    from neuroheat.viz.saliency_dense import saliency_dense_svg
    from neuroheat.viz.saliency_svg import saliency_svg
    from neuroheat.viz.saliency_views import saliency_minimap_svg, saliency_tall_svg

    if view == "focus":
        return saliency_svg(sal, show_meta=True)
    if view == "minimap":
        return saliency_minimap_svg(sal)
    if view == "tall":
        return saliency_tall_svg(sal)
    if view == "dense":
        return saliency_dense_svg(sal)
    raise InputError(f"unknown view {view!r}; choose one of {', '.join(VIEWS)}")


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
        from neuroheat.viz.saliency_html import saliency_html

        return saliency_html(sal).save(path)
    return render_view(sal, view).save_as(path)
