"""``resid``: the raw residual stream between blocks (TransformerLens' ``resid_pre/post``).

Layer 0 is what the first block receives (embeddings, with Gemma's sqrt(d) scaling and GPT-2's
position embeddings included); layer ``l`` is the output of block ``l``. Unlike ``hidden``, the
last layer is never passed through the final norm: this is what residual-stream SAEs are
trained on. Blocks after the deepest requested layer never run.

Example:
    >>> KIND.layers(llama)     # doctest: +SKIP
    [0, 1, 2, 3]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from neuroheat.errors import UnsupportedModelError
from neuroheat.model.architectures import base_of, hidden_size, num_layers
from neuroheat.model.sites._blocks import blocks_of, residual_recording
from neuroheat.model.sites.base import SiteKind, Tap

WHAT = "component 'resid'"


def complete(rec: Any, layers: Sequence[int]) -> list[Any]:
    if not rec.complete:
        raise UnsupportedModelError(
            f"the block hooks fired {rec.calls} times for layers {sorted(layers)}; this "
            "model's structure is not the expected one")
    return list(rec.values)


class Residual(SiteKind):
    """Residual stream: layer 0 = input of the first block, layer l = output of block l."""

    name = "resid"
    description = "raw residual stream; 0 = first block's input, l = block l's output"

    def layers(self, model: Any) -> list[int]:
        blocks_of(model, WHAT)  # fail early, naming the supported architectures
        return list(range((num_layers(model.config) or 0) + 1))

    def width(self, model: Any) -> int:
        return int(hidden_size(model.config) or 0)

    def hook_point(self, model: Any, layer: int) -> tuple[Any, str]:
        blocks = blocks_of(model, WHAT)
        return (blocks[0], "input") if int(layer) == 0 else (blocks[int(layer) - 1], "output")

    @contextmanager
    def tap(self, model: Any, layers: Sequence[int], *, stop: bool = False) -> Iterator[Tap]:
        with residual_recording(model, layers, WHAT, stop=stop) as rec:
            yield Tap(base_of(model), {}, lambda _out: complete(rec, layers))


KIND = Residual()
