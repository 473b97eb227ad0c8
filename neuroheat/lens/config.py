"""Settings of the lens jobs, for the Python API and ``neuroheat lens`` / ``neuroheat dla``.

The text, the answer token and the output path are data (arguments), not settings.

Example:
    >>> LensConfig(top_k=3).lens
    'logit'
    >>> DlaConfig(neurons="2,5").top
    20
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neuroheat.config import Config, option
from neuroheat.errors import InputError

LENSES = ("logit", "tuned")


@dataclass(frozen=True)
class LensConfig(Config):
    """Settings of :func:`neuroheat.lens.logit_lens` and :func:`~neuroheat.lens.tuned_lens`."""

    lens: str = option("logit", "which lens: logit (final norm + unembedding at every layer) "
                       "or tuned (learned translators first, needs --tuned-lens)",
                       choices=LENSES)
    tuned_lens: str | None = option(None, "folder of a tuned lens in tuned-lens' layout "
                                    "(config.json, params.pt)", metavar="DIR")
    top_k: int = option(5, "most probable tokens kept per layer and position", type=int,
                        metavar="K")
    target: Any = option(None, "also report the log-probability and rank of this token (one "
                         "token, e.g. ' Paris')", metavar="TOKEN")
    device: str | None = option("auto", "auto (default: CUDA when available), cpu, cuda, "
                                "cuda:N")

    def check(self) -> None:
        super().check()
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 1:
            raise InputError(f"top_k must be a positive integer, got {self.top_k!r}")
        if self.lens == "tuned" and not self.tuned_lens:
            raise InputError("--lens tuned needs --tuned-lens DIR (a folder with config.json "
                             "and params.pt)")


@dataclass(frozen=True)
class DlaConfig(Config):
    """Settings of :func:`neuroheat.lens.dla`."""

    foil: Any = option(None, "a second token: attribute the logit difference answer - foil",
                       metavar="TOKEN")
    position: int = option(-1, "token position to explain (BOS counts where the tokenizer "
                           "adds it; -1 = the last)", type=int, metavar="P")
    neurons: Any = option(None, "also attribute to the mlp neurons of these layers, e.g. 2,5 "
                          "or all", metavar="LAYERS")
    top: int = option(20, "neurons kept, the largest |value| first", type=int, metavar="N")
    device: str | None = option("auto", "auto (default: CUDA when available), cpu, cuda, "
                                "cuda:N")

    def check(self) -> None:
        super().check()
        if isinstance(self.top, bool) or not isinstance(self.top, int) or self.top < 0:
            raise InputError(f"top must be an integer >= 0, got {self.top!r}")
