"""The final norm of each decoder family, as parameters a lens can apply to any residual.

One :class:`NormSpec` row per ``model_type`` says where the final norm sits (a dotted path from
the base model), whether it is an RMSNorm or a LayerNorm (centring), and whether its gain is
stored as ``w`` or as Gemma's ``1 + w``. :func:`final_norm_of` reads the module's parameters
into a :class:`FinalNorm`, which applies the norm with statistics recomputed from the residual
it is given (never the statistics of the model's last layer) and exposes the pieces direct
logit attribution freezes: the scale ``σ``, the centring ``C`` and the gain ``g``.

``FinalNorm(x) = g ⊙ C(x) / σ(x) + b``, with ``C(x) = x − mean(x)`` for LayerNorm (identity for
RMSNorm), ``σ(x) = sqrt(mean(C(x)²) + eps)``.

Example:
    >>> NORMS["gemma2"].gain_offset, NORMS["gpt2"].kind
    (1.0, 'layer')
    >>> norm = final_norm_of(llama)          # doctest: +SKIP
    >>> norm(resid).shape == resid.shape     # doctest: +SKIP
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from neuroheat.errors import UnsupportedModelError
from neuroheat.model.architectures import base_of, submodule

__all__ = ["NORMS", "FinalNorm", "NormSpec", "final_norm_of", "post_norm_families"]


@dataclass(frozen=True)
class NormSpec:
    """Where a family's final norm is and how it computes."""

    path: str
    kind: Literal["rms", "layer"] = "rms"
    gain_offset: float = 0.0     # Gemma's RMSNorm multiplies by (1 + w)
    post_norms: bool = False     # sublayer outputs pass through a norm before the residual


_RMS = NormSpec("norm")
_GEMMA = NormSpec("norm", gain_offset=1.0)

NORMS: dict[str, NormSpec] = {
    "gpt2": NormSpec("ln_f", "layer"),
    "gpt_neox": NormSpec("final_layer_norm", "layer"),
    "olmo": NormSpec("norm", "layer"),          # LayerNorm without weight or bias
    **{t: _RMS for t in ("llama", "mistral", "qwen2", "qwen3", "phi3", "mixtral", "qwen2_moe",
                         "qwen3_moe")},
    "olmo2": NormSpec("norm", post_norms=True),
    "gemma": _GEMMA,
    "gemma2": NormSpec("norm", gain_offset=1.0, post_norms=True),
    "gemma3_text": NormSpec("norm", gain_offset=1.0, post_norms=True),
}


def post_norm_families() -> list[str]:
    """Model types whose sublayer outputs are normalised before they join the residual."""
    return [t for t, spec in NORMS.items() if spec.post_norms]


@dataclass
class FinalNorm:
    """A final norm's parameters: ``gain`` (``1 + w`` folded in), optional ``bias``, ``eps``.

    Tensors live where the model's norm lives; :meth:`__call__` computes in float32.
    """

    kind: Literal["rms", "layer"]
    gain: Any
    bias: Any
    eps: float
    model_type: str = ""

    def center(self, x: Any) -> Any:
        """``C(x)``: ``x − mean(x)`` over the last axis for LayerNorm, ``x`` for RMSNorm."""
        return x - x.mean(-1, keepdim=True) if self.kind == "layer" else x

    def scale(self, x: Any) -> Any:
        """``σ(x)`` ``[..., 1]``: the norm's divisor recomputed from ``x`` itself."""
        c = self.center(x)
        return (c.pow(2).mean(-1, keepdim=True) + self.eps).sqrt()

    def __call__(self, x: Any) -> Any:
        """``g ⊙ C(x)/σ(x) + b`` in float32 (the statistics are those of ``x``)."""
        x = x.float()
        out = self.center(x) / self.scale(x)
        out = out * self.gain.to(out.device)
        return out + self.bias.to(out.device) if self.bias is not None else out


def _spec(model: Any) -> NormSpec:
    model_type = getattr(model.config, "model_type", "") or type(model).__name__
    spec = NORMS.get(model_type)
    if spec is None:
        raise UnsupportedModelError(
            f"the final norm of {model_type!r} models is not mapped; lenses and direct logit "
            f"attribution support {', '.join(sorted(NORMS))}")
    return spec


def final_norm_of(model: Any) -> FinalNorm:
    """The :class:`FinalNorm` of ``model`` (a Hugging Face model, with or without its head).

    Example:
        >>> final_norm_of(gpt2).kind   # doctest: +SKIP
        'layer'
    """
    import torch

    spec = _spec(model)
    try:
        module = submodule(base_of(model), spec.path)
    except (AttributeError, IndexError) as exc:
        raise UnsupportedModelError(f"{type(model).__name__} has no final norm at "
                                    f"{spec.path!r} ({exc})") from None
    weight = getattr(module, "weight", None)
    width = int(getattr(module, "normalized_shape", (0,))[0] if weight is None
                else weight.shape[-1])
    if weight is None:  # OLMo's parameter-free LayerNorm
        gain = torch.ones(width)
    else:
        gain = weight.detach().float() + spec.gain_offset
    bias = getattr(module, "bias", None)
    bias = bias.detach().float() if bias is not None else None
    eps = getattr(module, "variance_epsilon", None) or getattr(module, "eps", None) or 1e-5
    return FinalNorm(spec.kind, gain, bias, float(eps), model.config.model_type)
