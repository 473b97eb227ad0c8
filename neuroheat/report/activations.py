"""The interactive activation page of stored sentences: words and values read from a store,
each neuron described by its top words, drawn by :func:`~neuroheat.viz.activations.page.
activation_html`.

Example:
    >>> page = activation_html_from_store("acts.h5", [0, 3], [(4, 216), (6, 17)])  # doctest: +SKIP
    >>> page.save("acts.html")                                                      # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuroheat.analysis import top_words
from neuroheat.errors import InputError
from neuroheat.store import open_store
from neuroheat.viz.activations.page import ActivationHTML, activation_html

__all__ = ["activation_html_from_store"]


def activation_html_from_store(
    store: Any,
    sentences: int | Sequence[int],
    neurons: Sequence[tuple[int, int]],
    *,
    describe: bool = True,
    k_words: int = 5,
    **options: Any,
) -> ActivationHTML:
    """The page for stored ``sentences`` and ``neurons`` (``(layer, neuron)`` pairs, model
    layer numbers); with ``describe``, each neuron's top words (``nh.analysis.top_words``)
    appear in the list.

    Example:
        >>> activation_html_from_store("acts.h5", [0, 3], [(4, 216), (6, 17)])  # doctest: +SKIP
    """
    ids = [sentences] if isinstance(sentences, int) else list(sentences)
    if not neurons:
        raise InputError("pass at least one (layer, neuron) pair")
    if isinstance(store, str | Path):
        with open_store(store) as opened:
            return activation_html_from_store(
                opened, ids, neurons, describe=describe, k_words=k_words, **options
            )
    words = [store.words(i) for i in ids]
    acts = []
    for i in ids:
        per_layer = {layer: store.sentence(i, layer=layer) for layer in {L for L, _ in neurons}}
        acts.append(np.stack([per_layer[L][:, n] for L, n in neurons], axis=1))
    labels = options.pop("labels", None) or [f"layer {L}, neuron {n}" for L, n in neurons]
    descriptions = options.pop("descriptions", None)
    if descriptions is None and describe:
        descriptions = [
            ", ".join(w for w, _ in top_words(store, L, n, k=k_words)) for L, n in neurons
        ]
    return activation_html(words, acts, labels, descriptions=descriptions, **options)
