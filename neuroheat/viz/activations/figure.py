"""NeuroX-compatible activation heatmaps of text, with real text layout, as SVG.

Example:
    >>> dwg = visualize_activations(["The", "cat", "sat"], [0.1, -0.8, 0.5])
    >>> dwg.tostring().startswith("<svg")
    True
    >>> dwg.save("figure.pdf")   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.viz.activations.draw import ActivationDrawing, draw_blocks
from neuroheat.viz.activations.style import OPTIONS, RenderStyle
from neuroheat.viz.color.scales import NEUROX_COLORS
from neuroheat.viz.text.layout import layout_tokens

__all__ = ["OPTIONS", "ActivationDrawing", "RenderStyle", "render_sentences",
           "visualize_activations", "visualize_sentences"]

FILTERS = ("top_tokens",)
# NeuroX's filter_fn="top_tokens" keeps the tokens with |a| above this fraction of max |a|.
TOP_TOKENS_FRACTION = 0.8


def _as_activations(activations: Any, name: str = "activations") -> np.ndarray:
    if hasattr(activations, "detach"):  # a torch tensor, without importing torch
        activations = activations.detach().cpu().numpy()
    try:
        arr = np.asarray(activations, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a list or array of numbers") from None
    if arr.ndim != 1:
        raise InputError(
            f"{name} must be one value per token (1-D), got shape {arr.shape}; "
            "select one neuron, e.g. acts[:, layer, neuron]"
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = np.flatnonzero(bad)[:5].tolist()
        raise InputError(
            f"{name} contain NaN or infinite values at positions {idx}; "
            "replace them (e.g. np.nan_to_num) before rendering"
        )
    return arr


def _apply_filter(arr: np.ndarray, filter_fn: str | Callable | None) -> np.ndarray:
    if filter_fn is None:
        return arr
    if isinstance(filter_fn, str):
        if filter_fn != "top_tokens":
            raise InputError(
                f"unknown filter_fn {filter_fn!r}; use one of {FILTERS} or a callable"
            )
        if arr.size == 0:
            return arr
        top = np.abs(arr).max()
        return np.where(np.abs(arr) > TOP_TOKENS_FRACTION * top, arr, 0.0)
    if not callable(filter_fn):
        raise InputError("filter_fn must be None, 'top_tokens' or a callable")
    out = _as_activations(filter_fn(arr.copy()), "filter_fn's result")
    if out.shape != arr.shape:
        raise InputError(
            f"filter_fn returned {out.size} values for {arr.size} activations; "
            "it must return one value per activation"
        )
    return out


def _check(tokens: Sequence[str], arr: np.ndarray) -> None:
    if isinstance(tokens, str):
        raise InputError("tokens must be a list of strings, not one string; use text.split()")
    if len(tokens) != arr.size:
        raise InputError(
            f"got {len(tokens)} tokens but {arr.size} activations; pass one activation per token"
        )


def visualize_activations(
    tokens: Sequence[str],
    activations: Sequence[float] | np.ndarray,
    darken: int = 2,
    colors: Sequence[str] = NEUROX_COLORS,
    text_direction: str = "ltr",
    char_limit: int | None = 60,
    font_size: float = 20,
    filter_fn: str | Callable | None = None,
    **options: Any,
) -> ActivationDrawing:
    """Draw ``tokens`` with backgrounds coloured by one neuron's ``activations`` (NeuroX API).

    Red (``colors[0]``) for negative values, blue (``colors[1]``) for positive, opacity
    ``|a| / max |a|``; ``darken`` stacks the colour that many times. ``filter_fn="top_tokens"``
    keeps only ``|a| > 0.8 max |a|`` (:data:`TOP_TOKENS_FRACTION`); a callable gets the activations and must return as many
    values. More ``options``: see :data:`OPTIONS` (``vmin``, ``vmax``, ``cmap``, ``colorbar``,
    ``title``, ``width``, ``text_mode``, ...). ``char_limit=None`` wraps by ``width`` only.

    Example:
        >>> dwg = visualize_activations(["a", "b"], [1.0, -1.0], colorbar=True, title="n 7")
    """
    return visualize_sentences(
        [tokens],
        [activations],
        darken=darken,
        colors=colors,
        text_direction=text_direction,
        char_limit=char_limit,
        font_size=font_size,
        filter_fn=filter_fn,
        **options,
    )


def visualize_sentences(
    sentences: Sequence[Sequence[str]],
    activations: Sequence[Sequence[float] | np.ndarray],
    darken: int = 2,
    colors: Sequence[str] = NEUROX_COLORS,
    text_direction: str = "ltr",
    char_limit: int | None = 60,
    font_size: float = 20,
    filter_fn: str | Callable | None = None,
    **options: Any,
) -> ActivationDrawing:
    """Several sentences, one neuron, one shared colour scale, stacked in one figure.

    ``labels=[...]`` puts a small label above each sentence. Other arguments as
    :func:`visualize_activations`.

    Example:
        >>> dwg = visualize_sentences([["a", "b"], ["c"]], [[1, 2], [-3]], labels=["s1", "s2"])
    """
    style = RenderStyle.from_options(
        options, darken=darken, colors=colors, text_direction=text_direction,
        char_limit=char_limit, font_size=font_size, filter_fn=filter_fn,
    )
    return render_sentences(sentences, activations, style, labels=options.get("labels"))


def render_sentences(
    sentences: Sequence[Sequence[str]],
    activations: Sequence[Sequence[float] | np.ndarray],
    style: RenderStyle,
    labels: Sequence[str | None] | None = None,
) -> ActivationDrawing:
    """:func:`visualize_sentences` with its options as one :class:`RenderStyle`.

    Example:
        >>> dwg = render_sentences([["a"]], [[1.0]], RenderStyle(colorbar=True))
    """
    if len(sentences) != len(activations):
        raise InputError(
            f"got {len(sentences)} sentences but {len(activations)} activation lists"
        )
    arrays = []
    for toks, acts in zip(sentences, activations, strict=True):
        arr = _as_activations(acts)
        _check(toks, arr)
        arrays.append(_apply_filter(arr, style.filter_fn))
    allv = np.concatenate(arrays) if arrays else np.zeros(0)
    scale = style.scale(allv)
    if labels is not None and len(labels) != len(sentences):
        raise InputError(f"got {len(labels)} labels for {len(sentences)} sentences")
    layouts = [layout_tokens(list(t), **style.layout_options()) for t in sentences]
    return draw_blocks(layouts, arrays, scale, labels, style)
