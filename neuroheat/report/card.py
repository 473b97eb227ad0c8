"""A neuron card from a store: the neuron's top words and the sentences where it fires most,
read with :mod:`neuroheat.analysis` and drawn by :func:`~neuroheat.viz.activations.card.
draw_neuron_card`.

Example:
    >>> card = neuron_card("acts.h5", layer=3, neuron=17)    # doctest: +SKIP
    >>> card.save("neuron17.pdf")                          # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from neuroheat.analysis import top_contexts, top_words
from neuroheat.store import open_store
from neuroheat.viz.activations.card import CardContext, draw_neuron_card
from neuroheat.viz.activations.draw import ActivationDrawing
from neuroheat.viz.color.scales import NEUROX_COLORS

__all__ = ["card_contexts", "neuron_card"]


def card_contexts(store: Any, layer: int, neuron: int, k: int = 5,
                  lowest: bool = False) -> list[CardContext]:
    """The ``k`` best contexts of ``neuron`` (lowest with ``lowest``), one per distinct
    sentence text, with the neuron's values over each sentence.

    Example:
        >>> card_contexts(store, 3, 17, k=2)[0].word   # doctest: +SKIP
        'Paris'
    """
    # Several top rows often share a sentence (or a duplicated sentence): keep one context
    # per distinct sentence text, the best one.
    contexts, seen = [], set()
    for c in top_contexts(store, layer, neuron, k=max(1, k) * 4, lowest=lowest):
        key = tuple(c.words)
        if key not in seen and len(contexts) < k:
            seen.add(key)
            contexts.append(c)
    return [CardContext(c.sentence, list(c.words), c.position, c.word, c.value,
                        np.asarray(store.sentence(c.sentence, layer=layer)[:, neuron],
                                   np.float64))
            for c in contexts]


def neuron_card(
    store: Any,
    layer: int,
    neuron: int,
    *,
    k_words: int = 10,
    k_contexts: int = 5,
    lowest: bool = False,
    darken: int = 2,
    colors: tuple[str, str] = NEUROX_COLORS,
    text_direction: str = "ltr",
    char_limit: int | None = 60,
    font_size: float = 20,
    **options: Any,
) -> ActivationDrawing:
    """Top words and top contexts of ``neuron`` in model layer ``layer`` of ``store``.

    ``store`` is a path, a list of paths or glob, or an open store. ``lowest=True`` shows the
    contexts where the neuron is lowest. ``options`` as :func:`~neuroheat.viz.
    visualize_activations` (``title`` defaults to "layer L, neuron N"; ``colorbar`` to True).

    Example:
        >>> nh.report.neuron_card("acts.h5", 3, 17, k_contexts=3).save("n17.svg")  # doctest: +SKIP
    """
    if isinstance(store, str | os.PathLike | list | tuple):
        with open_store(store) as opened:
            return neuron_card(opened, layer, neuron, k_words=k_words, k_contexts=k_contexts,
                               lowest=lowest, darken=darken, colors=colors,
                               text_direction=text_direction, char_limit=char_limit,
                               font_size=font_size, **options)
    opts = dict(options)
    opts.setdefault("title", f"layer {layer}, neuron {neuron}")
    words = top_words(store, layer, neuron, k=k_words)
    contexts = card_contexts(store, layer, neuron, k_contexts, lowest)
    return draw_neuron_card(words, contexts, lowest=lowest, darken=darken, colors=colors,
                            text_direction=text_direction, char_limit=char_limit,
                            font_size=font_size, **opts)
