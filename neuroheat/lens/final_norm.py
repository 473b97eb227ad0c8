"""The readout a lens applies at every layer: the family's final norm, then the unembedding.

``logits_l = unembed(final_norm(resid_l))``: the norm's statistics are recomputed from
``resid_l`` itself (TransformerLens #1076: cached statistics of the last layer make early
layers look uniform), the gain includes Gemma's ``1 + w``, LayerNorm families are centred and
get their bias, and the output bias and final-logit soft-capping follow. What each family has
is known to :mod:`neuroheat.model.final_norm` and :mod:`neuroheat.model.unembedding`.

Example:
    >>> read = readout_of(loaded.model)          # doctest: +SKIP
    >>> read.logits(resid).shape                  # doctest: +SKIP
    torch.Size([7, 50257])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neuroheat.model.final_norm import FinalNorm, final_norm_of
from neuroheat.model.unembedding import Unembed, unembed_of

__all__ = ["Readout", "readout_of"]


@dataclass
class Readout:
    """A model's final norm and unembedding, applied to any residual."""

    norm: FinalNorm
    unembed: Unembed

    @property
    def softcap(self) -> float | None:
        """The final-logit soft-capping constant, or None."""
        return self.unembed.softcap

    def logits(self, resid: Any, *, cap: bool = True) -> Any:
        """float32 logits of residuals ``[..., hidden]`` (soft-capped unless ``cap=False``),
        computed where the final norm lives (a spread model's early layers move there)."""
        return self.unembed(self.norm(resid.to(self.norm.gain.device)), cap=cap)

    def direction(self, answer: int, foil: int | None = None) -> Any:
        """``u = W_U[:, answer] − W_U[:, foil]`` (without a foil, ``W_U[:, answer]``)."""
        w = self.unembed.weight
        return w[answer] - w[foil] if foil is not None else w[answer]

    def output_bias(self, answer: int, foil: int | None = None) -> float:
        """``b_U[answer] − b_U[foil]`` (0 without an output bias)."""
        b = self.unembed.bias
        if b is None:
            return 0.0
        return float(b[answer] - (b[foil] if foil is not None else 0.0))

    def direct_effect(self, vectors: Any, sigma: Any, u: Any) -> Any:
        """``⟨g ⊙ C(c)/σ, u⟩`` for each row ``c`` of ``vectors`` ``[..., hidden]``: the direct
        effect on the logit along ``u`` with the norm's scale frozen at ``σ``."""
        g = self.norm.gain.to(vectors.device, vectors.dtype)
        return (self.norm.center(vectors) * (g * u.to(vectors.device, vectors.dtype))).sum(-1) \
            / sigma


def readout_of(model: Any) -> Readout:
    """The :class:`Readout` of a causal LM (or a base model with a findable head).

    Example:
        >>> readout_of(gpt2).softcap is None   # doctest: +SKIP
        True
    """
    return Readout(final_norm_of(model), unembed_of(model))
