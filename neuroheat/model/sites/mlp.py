"""The ``mlp`` component: feed-forward neurons, captured by forward hooks.

``mlp`` stores the feed-forward (MLP) intermediate activations *after the nonlinearity* — the
input of the down-projection, 4x the hidden size in BERT and GPT-2 (1,536 in MiniLM, 3,072
in BERT-base). These are the "neurons" of much recent interpretability work.

Layer numbering: layer ``l`` (1..L) is the feed-forward block of transformer layer ``l``,
the same ``l`` as hidden-state layer ``l`` (whose output it feeds). There is no layer 0: the
embeddings have no feed-forward block. ``layers="1-4"``, ``[6]`` or ``[-1]`` select as usual.

Supported architectures (``config.model_type``):

- BERT-like encoders, hook on ``layer.intermediate`` (dense + activation): bert, roberta,
  xlm-roberta, camembert, electra;
- distilbert, pre-hook on ``ffn.lin2`` (its input is the activation output);
- albert (one inner layer per group, the default; shared layers are counted per call);
- GPT-2-like decoders, pre-hook on ``mlp.c_proj``: gpt2.

Any other architecture raises :class:`~neuroheat.errors.UnsupportedModelError` naming these.

Example:
    >>> arrays = activations_for_words("all-MiniLM-L6-v2", [["The", "cat"]],
    ...                                component="mlp", layers=[6])  # doctest: +SKIP
    >>> arrays[0].shape
    (2, 1, 1536)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neuroheat.errors import UnsupportedModelError
from neuroheat.model.loading import LoadedModel
from neuroheat.model.sites import COMPONENTS

BERT_LIKE = ("bert", "roberta", "xlm-roberta", "camembert", "electra")
SUPPORTED = (*BERT_LIKE, "distilbert", "albert", "gpt2")


class _Enough(Exception):
    """Raised by a hook once the last requested layer is captured: skip the rest."""


def _base(model: Any) -> Any:
    base = getattr(model, "base_model", model)
    return base if base is not None else model


def _sites(loaded: LoadedModel) -> tuple[list[tuple[Any, str]], int]:
    """``([(module, "output"|"input"), ...], width)``; one call per transformer layer, in order."""
    cfg = loaded.config
    kind = getattr(cfg, "model_type", "")
    base = _base(loaded.model)
    if kind in BERT_LIKE:
        mods = [layer.intermediate for layer in base.encoder.layer]
        return [(m, "output") for m in mods], int(mods[0].dense.out_features)
    if kind == "distilbert":
        mods = [layer.ffn.lin2 for layer in base.transformer.layer]
        return [(m, "input") for m in mods], int(mods[0].in_features)
    if kind == "albert":
        if int(getattr(cfg, "inner_group_num", 1)) != 1:
            raise UnsupportedModelError(
                f"component 'mlp' supports ALBERT with inner_group_num=1 only; "
                f"{loaded.name!r} has {cfg.inner_group_num}: use component='hidden'")
        mods = [group.albert_layers[0].ffn_output for group in base.encoder.albert_layer_groups]
        return [(m, "input") for m in mods], int(mods[0].in_features)
    if kind == "gpt2":
        mods = [block.mlp.c_proj for block in base.h]
        return [(m, "input") for m in mods], int(mods[0].weight.shape[0])
    raise UnsupportedModelError(
        f"component 'mlp' does not support {kind or type(loaded.model).__name__!r} models yet "
        f"({loaded.name}); supported: {', '.join(SUPPORTED)}. Use component='hidden' for "
        "this model")


class FeedForward:
    """Feed-forward intermediate activations after the nonlinearity; layers 1..L."""

    name = "mlp"

    def layers(self, loaded: LoadedModel) -> list[int]:
        _sites(loaded)  # fail early, naming the supported architectures
        return list(range(1, loaded.num_layers + 1))

    def width(self, loaded: LoadedModel) -> int:
        return _sites(loaded)[1]

    def __call__(self, loaded: LoadedModel, input_ids: Any, attention_mask: Any,
                 layers: Sequence[int]) -> Any:
        import torch

        sites, _ = _sites(loaded)
        chunk = int(getattr(loaded.config, "chunk_size_feed_forward", 0) or 0)
        if chunk:
            raise UnsupportedModelError(
                f"component 'mlp' needs chunk_size_feed_forward=0 (the model config has "
                f"{chunk}); set model.config.chunk_size_feed_forward = 0")
        wanted = {int(lay): k for k, lay in enumerate(layers)}
        last = max(wanted)
        captured: list[Any] = [None] * len(wanted)
        calls = [0]

        def keep(value: Any) -> None:
            calls[0] += 1
            pos = wanted.get(calls[0])
            if pos is not None:
                captured[pos] = value
            if calls[0] == last:
                raise _Enough

        handles = []
        seen: set[int] = set()
        for module, where in sites:
            if id(module) in seen:  # shared (ALBERT) modules: one hook, counted per call
                continue
            seen.add(id(module))
            if where == "output":
                handles.append(module.register_forward_hook(lambda m, a, out: keep(out)))
            else:
                handles.append(module.register_forward_pre_hook(lambda m, a: keep(a[0])))
        try:
            _base(loaded.model)(input_ids=input_ids, attention_mask=attention_mask)
        except _Enough:
            pass
        finally:
            for h in handles:
                h.remove()
        if any(c is None for c in captured):
            raise UnsupportedModelError(
                f"{loaded.name}: the feed-forward hooks fired {calls[0]} times for layers "
                f"{sorted(wanted)}; this model's structure is not the expected one")
        return torch.stack(captured, dim=2)


COMPONENTS.setdefault("mlp", FeedForward())
