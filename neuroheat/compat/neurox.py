"""Render one neuron of a transformer on any sentence, loading the model once (NeuroX API).

Example:
    >>> vis = TransformersVisualizer("all-MiniLM-L6-v2")          # doctest: +SKIP
    >>> vis(["The", "cat", "sat"], layer=3, neuron=42).save("n42.pdf")   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from neuroheat.errors import InputError
from neuroheat.viz.activations.draw import ActivationDrawing
from neuroheat.viz.activations.figure import visualize_activations


class TransformersVisualizer:
    """Loads ``model`` once and draws any neuron's activations on any tokens.

    ``model`` is a Hub id (from the local cache), a local directory, a ``(model, tokenizer)``
    pair or a loaded model. Layer numbers are the extractor's: 0 is the embedding output,
    1..L the transformer layers. Activations are per word (``aggregation`` of its subwords,
    "last" by default, as in :func:`neuroheat.extract_activations`); with ``aggregation="none"``
    the figure shows one box per subword, labelled with the subword's string. Each instance
    holds its own model; nothing is shared between instances.
    """

    def __init__(
        self,
        model: Any,
        *,
        device: str | None = None,
        aggregation: str = "last",
        component: str = "hidden",
    ) -> None:
        from neuroheat.model import load_model  # lazy: torch loads here, not on import

        self.loaded = load_model(model, "base", device=device)
        self.model_name = self.loaded.name
        self.aggregation = aggregation
        self.component = component

    @property
    def model(self) -> Any:
        return self.loaded.model

    @property
    def tokenizer(self) -> Any:
        return self.loaded.tokenizer

    def activations(self, tokens: Sequence[str], layer: int) -> np.ndarray:
        """float32 ``[n_tokens, width]`` activations of ``layer`` for one sentence."""
        from neuroheat.extract.activations import activations_for_words

        if isinstance(tokens, str):
            raise InputError("tokens must be a list of words, not one string; use text.split()")
        if not tokens:
            return np.zeros((0, 0), dtype=np.float32)
        arrays = activations_for_words(
            self.loaded,
            [list(tokens)],
            layers=[int(layer)],
            aggregation=self.aggregation,
            component=self.component,
        )
        return arrays[0][:, 0, :]

    def __call__(
        self, tokens: Sequence[str], layer: int, neuron: int, **options: Any
    ) -> ActivationDrawing:
        """Draw ``neuron`` of ``layer`` on ``tokens``; ``options`` go to visualize_activations."""
        acts = self.activations(tokens, layer)
        if not len(tokens):
            return visualize_activations([], [], **options)
        width = acts.shape[1]
        if not 0 <= int(neuron) < width:
            raise InputError(
                f"neuron {neuron} does not exist: layer {layer} has neurons 0..{width - 1}"
            )
        labels = list(tokens)
        if self.aggregation == "none":
            from neuroheat.extract.align import encode_corpus

            labels = encode_corpus(self.tokenizer, [labels], "none")[0].rows
        return visualize_activations(labels, acts[:, int(neuron)], **options)
