"""What a "neuron" is: which tensors of the model an extraction stores.

A component knows which layer numbers exist, how wide a stored vector is, and how to run the
model on a padded batch and return ``[batch, tokens, n_selected_layers, width]``.

``hidden``: the residual stream, ``hidden_states`` of Hugging Face models; layer 0 is the
embedding output and layer ``l`` the output of transformer layer ``l`` (as in NeuroX). For
encoder-decoders, the encoder's.

Other components register themselves in :data:`COMPONENTS` (see ``mlp.py``).

Example:
    >>> comp = get_component("hidden")
    >>> comp.layers(loaded)          # doctest: +SKIP
    [0, 1, 2, 3, 4, 5, 6]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from neuroheat.errors import InputError
from neuroheat.layerspec import select_layers  # noqa: F401  (re-exported)
from neuroheat.model.loading import LoadedModel, encoder_of


class Component(Protocol):
    name: str

    def layers(self, loaded: LoadedModel) -> list[int]: ...

    def width(self, loaded: LoadedModel) -> int: ...

    def __call__(self, loaded: LoadedModel, input_ids: Any, attention_mask: Any,
                 layers: Sequence[int]) -> Any: ...


class HiddenStates:
    """Residual-stream hidden states, layer 0 = embeddings."""

    name = "hidden"

    def layers(self, loaded: LoadedModel) -> list[int]:
        return list(range(loaded.num_layers + 1))

    def width(self, loaded: LoadedModel) -> int:
        return loaded.hidden_size

    def __call__(self, loaded: LoadedModel, input_ids: Any, attention_mask: Any,
                 layers: Sequence[int]) -> Any:
        import torch

        module = encoder_of(loaded.model)
        out = module(input_ids=input_ids, attention_mask=attention_mask,
                     output_hidden_states=True, return_dict=True)
        states = out.hidden_states
        return torch.stack([states[i] for i in layers], dim=2)


COMPONENTS: dict[str, Component] = {"hidden": HiddenStates()}


def get_component(name: str) -> Component:
    """The component called ``name``; the error lists the valid ones."""
    if name not in COMPONENTS:
        try:  # optional components register on import
            import neuroheat.model.sites.mlp  # noqa: F401
        except ImportError:
            pass
    if name not in COMPONENTS:
        raise InputError(f"unknown component {name!r}; choose one of {', '.join(COMPONENTS)}")
    return COMPONENTS[name]
