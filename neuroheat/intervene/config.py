"""Settings of the ablation job, for :func:`neuroheat.intervene.ablate` and ``neuroheat ablate``.

The model, the corpus and the units are data (arguments), not settings.

Example:
    >>> AblateConfig(method="scale", value=0.5).method
    'scale'
    >>> AblateConfig.build(None, method="fixed")
    Traceback (most recent call last):
    ...
    neuroheat.errors.InputError: --method fixed needs --value V (the value the unit is set to)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neuroheat.config import Config, option
from neuroheat.errors import InputError

METHODS = ("zero", "mean", "resample", "fixed", "scale")


@dataclass(frozen=True)
class AblateConfig(Config):
    """Settings of :func:`neuroheat.intervene.ablate`."""

    method: str = option("zero", "zero (a <- 0), mean (the unit's mean over the reference), "
                         "resample (a random reference token's value, seeded), fixed (a <- V) "
                         "or scale (a <- V*a)", choices=METHODS)
    value: float | None = option(None, "V of --method fixed / scale", type=float, metavar="V")
    jointly: bool = option(False, "ablate all units together (one result) instead of each on "
                           "its own")
    reference: str | None = option(None, "corpus (text file) or store of the same model and "
                                   "site giving mean / resample values (default: the corpus)",
                                   metavar="CORPUS|STORE")
    sae: tuple = option((), "SAE folder (SAELens, sparsify, Gemma Scope), or SITE=DIR; "
                        "repeatable; its latents are units sae.SITE:I", metavar="DIR")
    splice: bool = option(False, "run with each --sae site replaced by the SAE's "
                          "reconstruction and report SAELens' fidelity metrics")
    seed: int = option(0, "seed of --method resample", type=int, metavar="S")
    batch_tokens: int | None = option(None, "padded tokens per forward pass, replicas "
                                      "included (default 1024 on CPU, 16384 on GPU)",
                                      type=int, metavar="N")
    device: str | None = option("auto", "auto (default: CUDA when available), cpu, cuda, "
                                "cuda:N")
    model_dtype: str | None = option(None, "float32 (default), bfloat16, float16 or auto",
                                     choices=("auto", "float32", "bfloat16", "float16"))
    shard: Any = option(None, 'process shard I of N of the units ("I/N"), or "auto" from '
                        "torchrun/SLURM variables", metavar="I/N|auto")
    quiet: bool = option(False, "no progress messages")

    def check(self) -> None:
        super().check()
        if self.method in ("fixed", "scale") and self.value is None:
            what = "the value the unit is set to" if self.method == "fixed" else "the factor"
            raise InputError(f"--method {self.method} needs --value V ({what})")
        if self.batch_tokens is not None and (
                isinstance(self.batch_tokens, bool) or not isinstance(self.batch_tokens, int)
                or self.batch_tokens < 1):
            raise InputError(f"batch_tokens must be a positive integer, got {self.batch_tokens!r}")
