"""``attn_out`` and ``mlp_out``: the two sublayer outputs each block adds to the residual stream.

``attn_out`` layer ``l`` is the attention output of block ``l`` and ``mlp_out`` its MLP (or
mixture-of-experts) output, each exactly as added to the residual stream: after the
post-norms of Gemma2/Gemma3/OLMo2, after Phi-3's and Pythia's (inference-time identity)
dropouts. ``resid[l] == resid[l-1] + attn_out[l] + mlp_out[l]`` for every mapped family.
Layers 1..L; width = the hidden size. Where each family is hooked is its row of
:mod:`neuroheat.model.architectures`.

Example:
    >>> [k.name for k in KINDS]
    ['attn_out', 'mlp_out']
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from neuroheat.model.architectures import base_of, hidden_size, num_layers, require, submodule
from neuroheat.model.hooks import record
from neuroheat.model.sites.base import SiteKind, Tap
from neuroheat.model.sites.resid import complete


class Sublayer(SiteKind):
    """The output of one sublayer of every block (``part`` names it in the table)."""

    def __init__(self, name: str, part: str, description: str):
        self.name, self.part, self.description = name, part, description

    def _modules(self, model: Any) -> list[Any]:
        arch = require(model, self.part, f"component {self.name!r}")
        blocks = submodule(base_of(model), arch.blocks or "")
        return [submodule(block, getattr(arch, self.part)) for block in blocks]

    def layers(self, model: Any) -> list[int]:
        self._modules(model)
        return list(range(1, (num_layers(model.config) or 0) + 1))

    def width(self, model: Any) -> int:
        return int(hidden_size(model.config) or 0)

    def hook_point(self, model: Any, layer: int) -> tuple[Any, str]:
        return self._modules(model)[int(layer) - 1], "output"

    @contextmanager
    def tap(self, model: Any, layers: Sequence[int], *, stop: bool = False) -> Iterator[Tap]:
        wanted = {int(lay): k for k, lay in enumerate(layers)}
        with record([(m, "output") for m in self._modules(model)], wanted, stop=stop) as rec:
            yield Tap(base_of(model), {}, lambda _out: complete(rec, layers))


KINDS = (
    Sublayer("attn_out", "attn_out", "attention output added to the residual stream; 1..L"),
    Sublayer("mlp_out", "mlp_out", "MLP output added to the residual stream; 1..L"),
)
