"""``mlp``: feed-forward neurons, captured by forward hooks.

``mlp`` stores the feed-forward (MLP) intermediate activations *after the nonlinearity* — the
input of the down-projection, 4x the hidden size in BERT and GPT-2 (1,536 in MiniLM, 3,072
in BERT-base). These are the "neurons" of much recent interpretability work.

Layer numbering: layer ``l`` (1..L) is the feed-forward block of transformer layer ``l``,
the same ``l`` as hidden-state layer ``l`` (whose output it feeds). There is no layer 0: the
embeddings have no feed-forward block. ``layers="1-4"``, ``[6]`` or ``[-1]`` select as usual.

Where each architecture is hooked is its row of :mod:`neuroheat.model.architectures`; any
other architecture raises :class:`~neuroheat.errors.UnsupportedModelError` naming the
supported ones. Blocks after the deepest requested layer never run.

Example:
    >>> arrays = activations_for_words("all-MiniLM-L6-v2", [["The", "cat"]],
    ...                                component="mlp", layers=[6])  # doctest: +SKIP
    >>> arrays[0].shape
    (2, 1, 1536)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from neuroheat.errors import UnsupportedModelError
from neuroheat.model.architectures import base_of, num_layers, require, submodule
from neuroheat.model.hooks import record
from neuroheat.model.sites.base import SiteKind, Tap


def _modules(model: Any) -> tuple[list[Any], str]:
    arch = require(model, "mlp", "component 'mlp'")
    blocks = submodule(base_of(model), arch.blocks or "")
    return [submodule(block, arch.mlp or "") for block in blocks], arch.mlp_at


def _width(module: Any, where: str) -> int:
    if where == "output":  # BERT's `intermediate`: dense + activation
        return int(module.dense.out_features)
    if hasattr(module, "in_features"):  # nn.Linear down projection
        return int(module.in_features)
    return int(module.weight.shape[0])  # GPT-2's Conv1D: weight [in, out]


class FeedForward(SiteKind):
    """Feed-forward intermediate activations after the nonlinearity; layers 1..L."""

    name = "mlp"
    description = "MLP neurons after the nonlinearity (down-projection input); layers 1..L"

    def layers(self, model: Any) -> list[int]:
        _modules(model)  # fail early, naming the supported architectures
        return list(range(1, (num_layers(model.config) or 0) + 1))

    def width(self, model: Any) -> int:
        mods, where = _modules(model)
        return _width(mods[0], where)

    def hook_point(self, model: Any, layer: int) -> tuple[Any, str]:
        mods, where = _modules(model)
        return mods[int(layer) - 1], where

    @contextmanager
    def tap(self, model: Any, layers: Sequence[int], *, stop: bool = False) -> Iterator[Tap]:
        mods, where = _modules(model)
        chunk = int(getattr(model.config, "chunk_size_feed_forward", 0) or 0)
        if chunk:
            raise UnsupportedModelError(
                f"component 'mlp' needs chunk_size_feed_forward=0 (the model config has "
                f"{chunk}); set model.config.chunk_size_feed_forward = 0")
        wanted = {int(lay): k for k, lay in enumerate(layers)}
        with record([(m, where) for m in mods], wanted, stop=stop) as rec:

            def values(_: Any) -> list[Any]:
                if not rec.complete:
                    raise UnsupportedModelError(
                        f"the feed-forward hooks fired {rec.calls} times for layers "
                        f"{sorted(wanted)}; this model's structure is not the expected one")
                return list(rec.values)

            yield Tap(base_of(model), {}, values)


KIND = FeedForward()
