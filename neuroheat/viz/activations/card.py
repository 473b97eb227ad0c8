"""A "neuron card": a neuron's top words and its top contexts, in one figure.

The first block shows the top words (NeuroX score, 0..1, in the positive colour); each
following block is one of the sentences where the neuron fires most, coloured by the neuron's
activations on one scale shared by all contexts (shown by the colour bar).

Example:
    >>> card = neuron_card("acts.h5", layer=3, neuron=17)    # doctest: +SKIP
    >>> card.save_as("neuron17.pdf")                          # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from neuroheat.viz.activations.draw import ActivationDrawing, draw_blocks
from neuroheat.viz.activations.style import RenderStyle
from neuroheat.viz.color.scales import NEUROX_COLORS, ColorScale
from neuroheat.viz.text.layout import layout_tokens


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
    contexts where the neuron is lowest. ``options`` as :func:`visualize_activations`
    (``title`` defaults to "layer L, neuron N"; ``colorbar`` to True).
    """
    from neuroheat.analysis import top_contexts, top_words
    from neuroheat.store import open_store

    opts = dict(options)
    opts.setdefault("title", f"layer {layer}, neuron {neuron}")
    opts.setdefault("colorbar", True)
    style = RenderStyle.from_options(opts, darken=darken, colors=colors,
                                     text_direction=text_direction, char_limit=char_limit,
                                     font_size=font_size)
    if isinstance(store, str | os.PathLike | list | tuple):
        with open_store(store) as opened:
            return neuron_card(opened, layer, neuron, k_words=k_words, k_contexts=k_contexts,
                               lowest=lowest, darken=darken, colors=colors,
                               text_direction=text_direction, char_limit=char_limit,
                               font_size=font_size, **options)
    words = top_words(store, layer, neuron, k=k_words)
    # Several top rows often share a sentence (or a duplicated sentence): keep one context
    # per distinct sentence text, the best one.
    contexts, seen = [], set()
    for c in top_contexts(store, layer, neuron, k=max(1, k_contexts) * 4, lowest=lowest):
        key = tuple(c.words)
        if key not in seen and len(contexts) < k_contexts:
            seen.add(key)
            contexts.append(c)
    sentences = [list(c.words) for c in contexts]
    acts = [np.asarray(store.sentence(c.sentence, layer=layer)[:, neuron], np.float64)
            for c in contexts]
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
