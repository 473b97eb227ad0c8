"""Settings of the patching and steering jobs, for :func:`neuroheat.intervene.patch`,
:func:`neuroheat.intervene.steer`, ``neuroheat patch`` and ``neuroheat steer``.

The model, the pairs, the units, the prompt and the output path are data (arguments), not
settings.

Example:
    >>> PatchConfig(grid="resid").metric
    'logit_diff'
    >>> SteerConfig(site="resid.2", vector="v.npy", alpha=4.0).method
    'add'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neuroheat.config import Config, option
from neuroheat.errors import InputError

GRIDS = ("resid", "attn_out", "mlp_out")
PATCH_METHODS = ("exact", "attribution")
METRICS = ("logit_diff", "logprob")
STEER_METHODS = ("add", "project")
POSITIONS = ("all", "prompt", "generated")
DTYPES = ("auto", "float32", "bfloat16", "float16")


def _positive(name: str, value: Any, zero: bool = False) -> None:
    low = 0 if zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InputError(f"{name} must be an integer >= {low}, got {value!r}")


@dataclass(frozen=True)
class PatchConfig(Config):
    """Settings of :func:`neuroheat.intervene.patch`."""

    grid: str | None = option(None, "patch every (layer, position) of this kind, one at a "
                              "time", choices=GRIDS, metavar="KIND")
    method: str = option("exact", "exact (one patched run per entry) or attribution (one "
                         "forward and backward pass per pair, a linear estimate)",
                         choices=PATCH_METHODS)
    metric: str = option("logit_diff", "at the last position: logit_diff = logit[answer] - "
                         "logit[foil], or logprob = log p(answer)", choices=METRICS)
    batch_tokens: int = option(4096, "tokens per forward pass, patched copies included",
                               type=int, metavar="N")
    device: str | None = option("auto", "auto (default: CUDA when available), cpu, cuda, "
                                "cuda:N")
    model_dtype: str | None = option(None, "float32 (default), bfloat16, float16 or auto",
                                     choices=DTYPES)
    quiet: bool = option(False, "no progress messages")

    def check(self) -> None:
        super().check()
        _positive("batch_tokens", self.batch_tokens)


@dataclass(frozen=True)
class SteerConfig(Config):
    """Settings of :func:`neuroheat.intervene.steer` (exactly one of ``vector`` / ``clamp``)."""

    site: str | None = option(None, "the site steered: resid.L, attn_out.L, mlp_out.L or mlp.L",
                              metavar="SITE")
    vector: str | None = option(None, "a .npy file of the site's width, mlp.L:N (that neuron's "
                                "output direction) or sae:DIR:LATENT (its decoder row)",
                                metavar="V")
    alpha: float = option(1.0, "add: h <- h + alpha*v; project: h <- h - (1-alpha)(h.v)v "
                          "with v of norm 1", type=float, metavar="A")
    method: str = option("add", "add the vector or project it out", choices=STEER_METHODS)
    clamp: str | None = option(None, "set one unit to a value instead, e.g. mlp.2:17=5.0",
                               metavar="UNIT=VALUE")
    positions: str = option("all", "steer the prompt, the generated tokens or both",
                            choices=POSITIONS)
    max_new_tokens: int = option(20, "tokens generated", type=int, metavar="N")
    temperature: float = option(0.0, "0 = greedy; > 0 samples (seeded, the same seed for the "
                                "default and the steered run)", type=float, metavar="T")
    seed: int = option(0, "seed of sampling", type=int, metavar="S")
    device: str | None = option("auto", "auto (default: CUDA when available), cpu, cuda, "
                                "cuda:N")
    model_dtype: str | None = option(None, "float32 (default), bfloat16, float16 or auto",
                                     choices=DTYPES)

    def check(self) -> None:
        super().check()
        if not self.site:
            raise InputError("no site given: pass --site SITE (e.g. resid.2)")
        if (self.vector is None) == (self.clamp is None):
            raise InputError("give exactly one of --vector V and --clamp UNIT=VALUE")
        _positive("max_new_tokens", self.max_new_tokens)
        if not isinstance(self.temperature, int | float) or self.temperature < 0:
            raise InputError(f"temperature must be >= 0, got {self.temperature!r}")
