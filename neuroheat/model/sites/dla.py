"""``dla``: each MLP neuron's direct effect on the logit of the token that actually follows.

For ``mlp.l`` neuron n at token t: ``a_n · ⟨g ⊙ C(W_out[:, n])/σ_t, W_U[:, next token]⟩``, with
``σ_t`` the final norm's scale on the last residual at t (frozen there), ``g`` its gain (Gemma's
``1 + w``) and ``C`` its centring (LayerNorm; identity for RMSNorm) — see
:mod:`neuroheat.lens.dla`. The next token is read from the batch the tap sees (a pre-hook on
the base model keeps its ``input_ids`` and ``attention_mask``); a token with no next token in
its window (the last of a line, or of a long line's window) stores 0. Same layers and width as
``mlp``; families whose MLP output passes through a post-norm (Gemma2/3, OLMo2) are refused.
The unembedding of a model loaded without its head is its tied input embedding, or the head
read once from its checkpoint.

Example:
    >>> KIND.name                        # doctest: +SKIP
    'dla'
    $ neuroheat extract MODEL corpus.txt dla.h5 --component dla
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from neuroheat.errors import UnsupportedModelError
from neuroheat.model.architectures import base_of, is_causal, num_layers
from neuroheat.model.final_norm import NORMS, final_norm_of
from neuroheat.model.sites.base import SiteKind, Tap
from neuroheat.model.sites.mlp import KIND as MLP
from neuroheat.model.sites.resid import KIND as RESID
from neuroheat.model.unembedding import down_rows, unembed_of

_READOUTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _check(model: Any) -> None:
    model_type = getattr(model.config, "model_type", "")
    spec = NORMS.get(model_type)
    if spec is None or not is_causal(model):
        raise UnsupportedModelError(
            f"component 'dla' needs a causal LM whose final norm is mapped; {model_type!r} is "
            f"not one (supported: {', '.join(sorted(NORMS))})")
    if spec.post_norms:
        raise UnsupportedModelError(
            f"component 'dla' is not defined for {model_type!r}: its MLP output passes through "
            "a post-norm, so a neuron's direct effect is not linear in its activation; use "
            "component 'mlp' or 'mlp_out'")


def _readout(model: Any) -> tuple[Any, Any]:
    """The final norm and the unembedding (moved once to where the final norm lives), kept per
    model object: taps are entered once per batch."""
    got = _READOUTS.get(model)
    if got is None:
        norm = final_norm_of(model)
        unembed = unembed_of(model)
        unembed.weight = unembed.weight.to(norm.gain.device)
        got = (norm, unembed)
        _READOUTS[model] = got
    return got


def next_tokens(input_ids: Any, attention_mask: Any | None) -> tuple[Any, Any]:
    """``(next id [b, t], has next [b, t])``: the following token where it is a real token."""
    import torch

    nxt = torch.zeros_like(input_ids)
    nxt[:, :-1] = input_ids[:, 1:]
    valid = torch.zeros_like(input_ids, dtype=torch.bool)
    if attention_mask is None:
        valid[:, :-1] = True
    else:
        real = attention_mask.bool()
        valid[:, :-1] = real[:, 1:] & real[:, :-1]
    return nxt, valid


class DirectLogit(SiteKind):
    """MLP neurons' direct effect on the next token's logit; layers 1..L."""

    name = "dla"
    description = "each mlp neuron's direct effect on the next token's logit; layers 1..L"

    def layers(self, model: Any) -> list[int]:
        _check(model)
        return MLP.layers(model)

    def width(self, model: Any) -> int:
        return MLP.width(model)

    @contextmanager
    def tap(self, model: Any, layers: Sequence[int], *, stop: bool = False) -> Iterator[Tap]:
        import torch

        _check(model)
        norm, unembed = _readout(model)
        chosen = [int(x) for x in layers]
        seen: dict[str, Any] = {}

        def keep(_module: Any, args: tuple, kwargs: dict[str, Any]) -> None:
            seen["ids"] = kwargs.get("input_ids", args[0] if args else None)
            seen["mask"] = kwargs.get("attention_mask")

        base = base_of(model)
        handle = base.register_forward_pre_hook(keep, with_kwargs=True)
        try:
            # the final norm's scale needs the last residual: no early exit
            with MLP.tap(model, chosen) as mlp, RESID.tap(model, [num_layers(model.config)]) \
                    as resid:

                def values(out: Any) -> list[Any]:
                    ids = seen.get("ids")
                    if ids is None:
                        raise UnsupportedModelError("component 'dla' needs the model called "
                                                    "with input_ids (the next tokens)")
                    x = resid.values(out)[0].float()
                    nxt, valid = next_tokens(ids.to(x.device), None if seen["mask"] is None
                                             else seen["mask"].to(x.device))
                    u = unembed.weight.to(x.device)[nxt]                    # [b, t, d]
                    scale = norm.scale(x)
                    gain = norm.gain.to(x.device)
                    result = []
                    for layer, acts in zip(chosen, mlp.values(out), strict=True):
                        # g ⊙ C(W_out[:, n]) per neuron [n, d], from the live weight (a copy
                        # of every layer would cost as much memory as the MLPs themselves)
                        w = norm.center(down_rows(model, layer).to(x.device).float()) * gain
                        value = acts.float().to(x.device) * (u @ w.T) / scale
                        result.append(torch.where(valid.unsqueeze(-1), value, 0.0))
                    return result

                yield Tap(base, {}, values)
        finally:
            handle.remove()


KIND = DirectLogit()
