"""``hidden``: the residual stream, ``hidden_states`` of Hugging Face models.

Layer 0 is the embedding output and layer ``l`` the output of transformer layer ``l`` (as in
NeuroX); for encoder-decoders, the encoder's. Works for every architecture transformers ships.

Example:
    >>> KIND.layers(model)       # doctest: +SKIP
    [0, 1, 2, 3, 4, 5, 6]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from neuroheat.errors import UnsupportedModelError
from neuroheat.model.architectures import encoder_of, hidden_size, num_layers
from neuroheat.model.sites.base import SiteKind, Tap


class HiddenStates(SiteKind):
    """Residual-stream hidden states, layer 0 = embeddings."""

    name = "hidden"
    description = "residual stream (hidden_states); layer 0 = embeddings"

    def layers(self, model: Any) -> list[int]:
        n = num_layers(model.config)
        if n is None:
            raise UnsupportedModelError(f"cannot tell the number of layers of "
                                        f"{type(model).__name__}")
        return list(range(n + 1))

    def width(self, model: Any) -> int:
        n = hidden_size(model.config)
        if n is None:
            raise UnsupportedModelError(f"cannot tell the hidden size of {type(model).__name__}")
        return n

    @contextmanager
    def tap(self, model: Any, layers: Sequence[int], *, stop: bool = False) -> Iterator[Tap]:
        chosen = [int(x) for x in layers]
        yield Tap(encoder_of(model), {"output_hidden_states": True, "return_dict": True},
                  lambda out: [out.hidden_states[i] for i in chosen])


KIND = HiddenStates()
