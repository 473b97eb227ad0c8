"""Drop-in replacement for ``textualheatmap.TextualHeatmap`` that also works offline and exports.

Change one import::

    from neuroheat.compat import TextualHeatmap     # was: from textualheatmap import TextualHeatmap

and the same calls work (``neuroheat.compat.TextualHeatmap`` is the same class): ``TextualHeatmap(show_meta=True, facet_titles=["LSTM", "GRU"])``,
``set_data(data)``, ``highlight(i)``. Inside a notebook the view displays on ``set_data`` and
updates in place on later calls (IPython display handles); everywhere it saves a standalone
page or a vector figure: ``save("fig.html")``, ``save("fig.svg" | ".png" | ".pdf")``.

``highlight(i)`` and the ``heat`` lists index the non-format tokens (``format: true`` tokens
are not counted), so ``heat[j]`` and ``highlight(j)`` name the same token.

Example:
    >>> hm = TextualHeatmap(show_meta=True, facet_titles=["LSTM"])
    >>> hm.set_data([[{"token": "a", "meta": ["and"], "heat": [1.0]}]])
    >>> hm.highlight(0)
    >>> "nh-saliency" in hm._repr_html_()
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from neuroheat.errors import InputError
from neuroheat.viz.saliency.data import HeatFacet, as_facets, check_index


def _notebook_display() -> Callable[..., Any] | None:
    """IPython's ``display`` when running inside a kernel, else None."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return None
    return display


class TextualHeatmap:
    """textualheatmap's class, same arguments and methods (see the module docstring).

    Args:
        show_meta: show the meta row (predictions) above each facet.
        facet_titles: one title per facet.
        rotate_facet_titles: rotate the titles 90 degrees.
        width: width in pixels.
        interactive: recolour on hover (False: only ``highlight`` changes the view).
        display_fn: called as ``display_fn(obj, display_id=True)`` to show the view (default:
            IPython's ``display`` inside a notebook, nothing elsewhere).
        debug: accepted for compatibility; unused (the view has no eval'd script).
    """

    def __init__(
        self,
        show_meta: bool = False,
        facet_titles: Sequence[str] = ("Heatmap",),
        rotate_facet_titles: bool = False,
        width: int = 600,
        interactive: bool = True,
        display_fn: Callable[..., Any] | None = None,
        debug: bool = False,
    ) -> None:
        if isinstance(width, bool) or not isinstance(width, int | float) or width <= 0:
            raise InputError(f"width must be a positive number, was {width!r}")
        for name, flag in (
            ("show_meta", show_meta),
            ("interactive", interactive),
            ("rotate_facet_titles", rotate_facet_titles),
        ):
            if not isinstance(flag, bool):
                raise InputError(f"{name} must be a boolean (True or False), was {flag!r}")
        if isinstance(facet_titles, str) or not isinstance(facet_titles, list | tuple):
            raise InputError("facet_titles must be a list of strings, e.g. ['LSTM', 'GRU']")
        for i, t in enumerate(facet_titles):
            if not isinstance(t, str):
                raise InputError(f"facet_titles[{i}] must be a string, was {t!r}")
        self.show_meta = show_meta
        self.facet_titles = list(facet_titles)
        self.rotate_facet_titles = rotate_facet_titles
        self.width = width
        self.interactive = interactive
        self.debug = debug
        self._display = display_fn if display_fn is not None else _notebook_display()
        self._handle: Any = None
        self._data: Any = None
        self._facets: list[HeatFacet] | None = None
        self._index: int | None = None

    # -- textualheatmap's API --------------------------------------------------------------
    def set_data(self, data: Any) -> None:
        """Set (or replace) the data: a list of facets, each a list of
        ``{"token": str, "meta": [str], "heat": [float], "format": bool}``; a ``Saliency`` or a
        list of them also works."""
        titles = self.facet_titles
        facets = as_facets(data, None)
        if len(facets) != len(titles):
            raise InputError(
                f"the data has {len(facets)} facet(s) but facet_titles has "
                f"{len(titles)} ({titles!r}); pass one title per facet"
            )
        for f, t in zip(facets, titles, strict=True):
            f.title = t
        if self._index is not None and self._index >= facets[0].k:
            self._index = None
        self._data, self._facets = data, facets
        self._show()

    def highlight(self, index: int) -> None:
        """Focus token ``index`` (a non-format token) in every facet."""
        if self._facets is None:
            raise InputError("call set_data(data) before highlight(index)")
        self._index = check_index(self._facets[0], index, "index")
        self._show()

    # -- neuroheat additions ---------------------------------------------------------------
    def to_html(self) -> Any:
        """The interactive view (:class:`~neuroheat.viz.saliency.page.SaliencyHTML`)."""
        from neuroheat.viz.saliency.page import SaliencyHTML, render_fragment

        facets = self._require()
        settings = {
            "width": float(self.width),
            "showMeta": self.show_meta,
            "rotateFacetTitles": self.rotate_facet_titles,
            "interactive": self.interactive,
            "direction": "auto",
            "focus": self._index,
            "compare": None,
        }
        title = "textual heatmap: " + " ".join(facets[0].tokens)[:80]
        return SaliencyHTML(render_fragment(facets, settings), facets, title)

    def to_svg(self, **options: Any) -> Any:
        """The static figure of the highlighted token (default: the first target)."""
        from neuroheat.viz.saliency.focus import saliency_svg

        self._require()
        return saliency_svg(
            self._data,
            focus=self._index,
            facet_titles=self.facet_titles,
            show_meta=self.show_meta,
            rotate_facet_titles=self.rotate_facet_titles,
            width=self.width,
            **options,
        )

    def save(self, path: str | Path, **options: Any) -> Path:
        """Write ``.html`` (interactive page) or ``.svg``/``.png``/``.pdf`` (static figure)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix in (".html", ".htm"):
            return self.to_html().save(path)
        if suffix in (".svg", ".png", ".pdf"):
            return self.to_svg(**options).save(path)
        raise InputError(f"cannot save {path.name!r}: use .html, .svg, .png or .pdf")

    def _repr_html_(self) -> str:
        if self._facets is None:
            return "<div>TextualHeatmap: no data yet (call set_data)</div>"
        return self.to_html()._repr_html_()

    def _require(self) -> list[HeatFacet]:
        if self._facets is None:
            raise InputError("no data: call set_data(data) first")
        return self._facets

    def _show(self) -> None:
        if self._display is None:
            return
        view = self.to_html()
        if self._handle is not None and hasattr(self._handle, "update"):
            self._handle.update(view)
        else:
            self._handle = self._display(view, display_id=True)
