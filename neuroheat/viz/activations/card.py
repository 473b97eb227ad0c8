"""A "neuron card": a neuron's top words and its top contexts, in one figure.

The first block shows the top words (NeuroX score, 0..1, in the positive colour); each
following block is one of the sentences where the neuron fires most, coloured by the neuron's
activations on one scale shared by all contexts (shown by the colour bar). This module draws
what it is given; :func:`neuroheat.report.neuron_card` reads it from a store.

Example:
    >>> ctx = CardContext(4, ["The", "cat"], 1, "cat", 2.0, values=[0.1, 2.0])
    >>> card = draw_neuron_card([("cat", 1.0), ("dog", 0.4)], [ctx], title="neuron 17")
    >>> card.save("neuron17.pdf")                          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroheat.viz.activations.draw import ActivationDrawing, draw_blocks
from neuroheat.viz.activations.style import RenderStyle
from neuroheat.viz.color.scales import NEUROX_COLORS, ColorScale
from neuroheat.viz.text.layout import layout_tokens

__all__ = ["CardContext", "draw_neuron_card"]


@dataclass
class CardContext:
    """One context block of a card: sentence ``sentence`` (its id, shown in the label), its
    ``words``, the neuron's ``values`` on them, and the highlighted peak at ``position``
    (``word`` and ``value`` there, as the label shows them)."""

    sentence: int
    words: list[str]
    position: int
    word: str
    value: float
    values: Any  # float array [len(words)]


def draw_neuron_card(
    words: Sequence[tuple[str, float]],
    contexts: Sequence[CardContext],
    *,
    lowest: bool = False,
    darken: int = 2,
    colors: tuple[str, str] = NEUROX_COLORS,
    text_direction: str = "ltr",
    char_limit: int | None = 60,
    font_size: float = 20,
    **options: Any,
) -> ActivationDrawing:
    """A card of ``words`` (``(word, score)``, scores 0..1) and ``contexts`` (blocks coloured on
    one shared scale; ``lowest``: they are the neuron's lowest). ``options`` as
    :func:`visualize_activations` (``colorbar`` defaults to True).

    Example:
        >>> draw_neuron_card([("cat", 1.0)], []).tostring()[:4]
        '<svg'
    """
    opts = dict(options)
    opts.setdefault("colorbar", True)
    style = RenderStyle.from_options(opts, darken=darken, colors=colors,
                                     text_direction=text_direction, char_limit=char_limit,
                                     font_size=font_size)
    contexts = list(contexts)
    sentences = [list(c.words) for c in contexts]
    acts = [np.asarray(c.values, np.float64) for c in contexts]
    allv = np.concatenate(acts) if acts else np.zeros(0)
    scale = style.scale(allv)
    word_scale = ColorScale([0.0, 1.0], colors=colors, darken=darken)
    common = style.layout_options()
    layouts = [layout_tokens([w for w, _ in words] or ["(none)"], **common)]
    arrays = [np.array([s for _, s in words] or [0.0])]
    labels: list[str | None] = ["top words (score)"]
    for c, toks, a in zip(contexts, sentences, acts, strict=True):
        layouts.append(layout_tokens(toks, **common))
        arrays.append(a)
        # LRM after the word: an RTL word does not pull the number to its side.
        labels.append(f"sentence {c.sentence}: {c.word}\u200e = {c.value:.3g}")
    if len(labels) > 1:
        labels[1] = ("lowest" if lowest else "top") + " contexts — " + str(labels[1])
    scales = [word_scale] + [scale] * len(contexts)
    highlights = [None] + [c.position for c in contexts]
    return draw_blocks(layouts, arrays, scale, labels, style, scales=scales,
                       highlights=highlights)
