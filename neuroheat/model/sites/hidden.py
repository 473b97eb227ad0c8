"""``hidden``: the residual stream, ``hidden_states`` of Hugging Face models.

Layer 0 is the embedding output and layer ``l`` the output of transformer layer ``l`` (as in
NeuroX); for encoder-decoders, the encoder's. Works for every architecture transformers ships.
For pre-norm decoders (GPT-2, Llama, ...) the last layer includes the final norm, as Hugging
Face's ``hidden_states`` do; ``resid`` is the stream without it. When the deepest requested
layer is below the last, extraction reads the stream with block hooks and stops there.

Example:
    >>> KIND.layers(model)       # doctest: +SKIP
    [0, 1, 2, 3, 4, 5, 6]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from neuroheat.errors import UnsupportedModelError
from neuroheat.model.architectures import (
    architecture_of,
    base_of,
    encoder_of,
    hidden_size,
    num_layers,
)
from neuroheat.model.sites._blocks import residual_recording
from neuroheat.model.sites.base import SiteKind, Tap
from neuroheat.model.sites.resid import complete


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
        if stop and _can_exit_early(model, chosen):
            # hidden_states[l] is the residual stream between blocks for every l < L: read it
            # with block hooks and stop after the deepest block (same values, bit for bit).
            with residual_recording(model, chosen, "component 'hidden'", stop=True) as rec:
                yield Tap(base_of(model), {}, lambda _out: complete(rec, chosen))
            return
        yield Tap(encoder_of(model), {"output_hidden_states": True, "return_dict": True},
                  lambda out: [out.hidden_states[i] for i in chosen])


def _can_exit_early(model: Any, layers: Sequence[int]) -> bool:
    """Whether ``layers`` stop before the last one (which may include a final norm) of a
    model whose blocks the architecture table maps."""
    arch = architecture_of(getattr(model.config, "model_type", None))
    n = num_layers(model.config)
    return (arch is not None and arch.blocks is not None and n is not None
            and not getattr(model.config, "is_encoder_decoder", False)
            and bool(layers) and max(layers) < n)


KIND = HiddenStates()
