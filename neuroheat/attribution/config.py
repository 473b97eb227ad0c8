"""``SaliencyConfig``: every setting of :func:`neuroheat.saliency` and ``neuroheat saliency``.

The target (what to explain) is data, not a setting: it is the ``target`` argument.

Example:
    >>> SaliencyConfig(method="ig").resolved().method
    'integrated_gradients'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from neuroheat.attribution.methods import ALIASES, BASELINES, IG_RULES, METHODS, resolve_method
from neuroheat.attribution.result import MERGES, NORMALIZATIONS
from neuroheat.config import Config, option
from neuroheat.errors import InputError


@dataclass(frozen=True)
class SaliencyConfig(Config):
    """Settings of a saliency computation (see each field's help)."""

    method: str = option("connectivity", "saliency method", choices=(*METHODS, *ALIASES))
    normalize: str = option("max", "per-row normalisation: max (max |x| = 1), sum or none",
                            choices=NORMALIZATIONS)
    batch_targets: int | None = option(None, "targets per forward/backward pass (default: fit "
                                       "a memory budget)", type=int)
    steps: int = option(32, "integrated gradients: path points")
    baseline: Any = option("zeros", "integrated gradients: baseline embedding (zeros, pad, "
                           "mask; a tensor from Python)", choices=BASELINES)
    ig_rule: str = option("gausslegendre", "integrated gradients: quadrature rule",
                          choices=IG_RULES)
    reduce: str | None = option(None, "sum (signed) or norm over hidden dimensions (default "
                                "norm for gradients, sum for grad_x_input and IG)",
                                choices=("sum", "norm"))
    generate: int | None = option(None, "causal LM: generate N tokens, then explain each of "
                                  "them", type=int, metavar="N")
    sample: bool | None = option(None, "sample when generating (default: when --seed is "
                                 "given)", cli=False)
    seed: int | None = option(None, "with --generate: sample with this seed instead of greedy "
                              "decoding", type=int)
    top_k: int = option(3, "predictions kept per target")
    merge: str | None = option(None, "merge subwords into words", choices=MERGES)
    positions: Sequence[int] | None = option(None, "explain only these token positions",
                                             cli=False)
    device: str | None = option("auto", "auto (default: CUDA when available), cpu, cuda, "
                                "cuda:N")
    quiet: bool = option(False, "no progress bar (default: one on a terminal)", cli=False)

    aliases = {"progress": ("quiet", lambda progress: progress is False)}

    def check(self) -> None:
        resolve_method(self.method)
        if self.normalize not in NORMALIZATIONS:
            raise InputError(f"unknown normalize={self.normalize!r}; choose one of "
                             f"{', '.join(NORMALIZATIONS)}")
        if self.merge is not None and self.merge not in MERGES:
            raise InputError(f"unknown merge={self.merge!r}; choose one of {', '.join(MERGES)}")
        gen = self.generate
        if gen is not None and (isinstance(gen, bool) or not isinstance(gen, int) or gen < 1):
            raise InputError(f"generate must be a positive number of tokens, got {gen!r}")

    def resolved(self) -> SaliencyConfig:
        """The same config with the method's canonical name."""
        return dataclasses.replace(self, method=resolve_method(self.method))
