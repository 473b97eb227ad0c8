"""One dataclass for the options of an activation figure: :class:`RenderStyle`.

:func:`~neuroheat.viz.visualize_activations` keeps NeuroX's keyword signature and builds a
``RenderStyle`` from its arguments; the drawing code reads only the style's fields.

Example:
    >>> style = RenderStyle.from_options({"colorbar": True, "title": "neuron 7"}, font_size=16)
    >>> style.margin_px, style.text_mode
    (8.0, 'paths')
    >>> RenderStyle.from_options({"colour": "red"})   # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    InputError: unknown option(s) colour; valid options: vmin, vmax, ...
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from neuroheat.errors import InputError
from neuroheat.viz.color.scales import NEUROX_COLORS, ColorScale

# The keyword options beyond NeuroX's arguments, with the help text every error lists.
OPTIONS = {
    "vmin": "lower end of the colour scale (share it across figures)",
    "vmax": "upper end of the colour scale",
    "cmap": "None (NeuroX colours), a colour map name, or a list of hex colours",
    "diverging": "treat a custom colour list as diverging around 0",
    "colorbar": "draw a colour bar under the text (default False)",
    "title": "a title above the figure",
    "labels": "one label per sentence (visualize_sentences)",
    "width": "wrap lines wider than this many pixels",
    "text_mode": "'paths' (default, exact everywhere) or 'embed' (text + font subset)",
    "fonts": "font files to use before the default fonts",
    "text_color": "'auto' (black, white on dark colours) or a hex colour",
    "background": "background colour (default 'white'; None for transparent)",
    "margin": "margin around the figure in pixels (default font_size / 2)",
    "token_gap": "pixels between adjacent boxes (default 0: boxes touch, as in NeuroX)",
}


@dataclass
class RenderStyle:
    """How an activation figure looks: NeuroX's arguments plus the options of :data:`OPTIONS`.

    ``None`` for ``text_mode``/``text_color``/``token_gap`` means the default; ``margin=None``
    is half the font size; ``background=None`` is transparent. ``labels`` is data, not style:
    it stays an argument of :func:`~neuroheat.viz.visualize_sentences`.
    """

    darken: int = 2
    colors: Sequence[str] = NEUROX_COLORS
    text_direction: str = "ltr"
    char_limit: int | None = 60
    font_size: float = 20
    filter_fn: str | Callable | None = None
    vmin: float | None = None
    vmax: float | None = None
    cmap: str | Sequence[str] | None = None
    diverging: bool | None = None
    colorbar: bool = False
    title: Any = None
    width: float | None = None
    text_mode: str | None = "paths"
    fonts: Any = None
    text_color: str | None = "auto"
    background: str | None = "white"
    margin: float | None = None
    token_gap: float | None = 0.0

    def __post_init__(self) -> None:
        self.text_mode = self.text_mode or "paths"
        self.text_color = self.text_color or "auto"
        self.token_gap = float(self.token_gap or 0.0)
        self.colorbar = bool(self.colorbar)

    @classmethod
    def from_options(cls, options: dict[str, Any] | None = None, /, **neurox: Any) -> RenderStyle:
        """A style from NeuroX's arguments (``neurox``: ``darken``, ``colors``, ...) and the
        ``options`` of :data:`OPTIONS`; an unknown option raises :class:`InputError` listing
        the valid ones (``labels`` is accepted and left out: it is data, not style)."""
        options = dict(options or {})
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise InputError(
                f"unknown option(s) {', '.join(unknown)}; valid options: {', '.join(OPTIONS)}"
            )
        options.pop("labels", None)
        return cls(**neurox, **options)

    @property
    def font_px(self) -> float:
        """The font size in pixels (0 for a falsy ``font_size``)."""
        return float(self.font_size) if self.font_size else 0.0

    @property
    def margin_px(self) -> float:
        """The margin around the figure: ``margin``, or half the font size."""
        return float(self.margin if self.margin is not None else self.font_px / 2)

    def scale(self, values: Any) -> ColorScale:
        """The colour scale of this style over ``values``."""
        return ColorScale(values, colors=self.colors, darken=self.darken, vmin=self.vmin,
                          vmax=self.vmax, cmap=self.cmap, diverging=self.diverging)

    def layout_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`~neuroheat.viz.text.layout.layout_tokens` for a block."""
        return dict(font_size=self.font_size, direction=self.text_direction,
                    max_width=self.width, char_limit=self.char_limit, fonts=self.fonts,
                    gap=self.token_gap)
