"""``ExplainConfig``: every setting of an explanation run, for the Python API and
``neuroheat explain`` (the CLI options are made from these fields).

Example:
    >>> cfg = ExplainConfig(endpoint="http://127.0.0.1:8000/v1", scorers="detection")
    >>> cfg.scorer_list, cfg.window
    (['detection'], 8)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neuroheat.config import Config, option
from neuroheat.errors import InputError

SCORERS = ("detection", "fuzzing", "simulation")


@dataclass(frozen=True)
class ExplainConfig(Config):
    """Settings of :func:`neuroheat.autointerp.explain` (see each field's help)."""

    layers: Any = option(None, 'layers whose neurons to explain, e.g. "0,6" or "1-4" (default '
                         "all; with --units: ignored)", metavar="SPEC")
    units: Any = option(None, 'neurons to explain as LAYER:NEURON, e.g. "3:17,3:5" or '
                        '"3:0-9" (default: every neuron of --layers)', metavar="L:N,...")
    explainer_model: str | None = option(None, "local model directory (or cached id) that "
                                         "explains and judges, through transformers",
                                         metavar="DIR")
    endpoint: str | None = option(None, "OpenAI-compatible server, e.g. "
                                  "http://127.0.0.1:8000/v1 (loopback only unless "
                                  "--allow-remote)", metavar="URL")
    model_name: str | None = option(None, "model name sent to --endpoint (default: the "
                                    "server's first model)", metavar="NAME")
    api_key_env: str | None = option(None, "environment variable holding the API key of "
                                     "--endpoint (the key is never written or logged)",
                                     metavar="VAR")
    scorers: str = option("detection,fuzzing", "comma-separated scorers: detection, "
                          "fuzzing, simulation (simulation needs log-probabilities)",
                          metavar="LIST")
    explain_examples: int = option(20, "examples shown to the explainer per neuron")
    score_examples: int = option(20, "activating examples per scorer per neuron")
    non_activating: int = option(20, "non-activating examples for detection per neuron")
    examples_per_prompt: int = option(5, "examples per detection / fuzzing prompt (1: one "
                                      "0/1 answer per prompt)")
    window: int = option(8, "words on each side of an example's word (as report --window)")
    seed: int = option(0, "seed of every random choice (examples, fuzzing marks, order)")
    concurrency: int = option(4, "requests (neurons) in flight at once")
    timeout: float = option(120.0, "seconds before a request is abandoned (then retried)")
    retries: int = option(3, "retries of a request after a timeout, 429 or 5xx (with "
                          "exponential backoff)")
    max_new_tokens: int = option(96, "longest answer generated, in tokens")
    batch_size: int = option(8, "prompts per forward pass of --explainer-model")
    device: str | None = option("auto", "device of --explainer-model: auto, cpu, cuda, cuda:N")
    allow_remote: bool = option(False, "allow an --endpoint host outside loopback")
    resume: bool = option(False, "keep the finished neurons of OUTPUT; redo missing and "
                          "failed ones only", cli=False)
    quiet: bool = option(False, "no progress bar or info messages")

    @property
    def scorer_list(self) -> list[str]:
        """The scorers, in the order given."""
        names = self.scorers if isinstance(self.scorers, list | tuple) else \
            [s.strip() for s in str(self.scorers).split(",") if s.strip()]
        return list(dict.fromkeys(names))

    def check(self) -> None:
        for name in self.scorer_list:
            if name not in SCORERS:
                raise InputError(f"unknown scorer {name!r}; choose from {', '.join(SCORERS)}")
        for name, low in (("explain_examples", 1), ("score_examples", 0), ("non_activating", 0),
                          ("examples_per_prompt", 1), ("window", 0), ("seed", 0),
                          ("concurrency", 1),
                          ("retries", 0), ("max_new_tokens", 1), ("batch_size", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise InputError(f"--{name.replace('_', '-')} must be an integer >= {low}, "
                                 f"got {v!r}")
        if not self.timeout > 0:
            raise InputError(f"--timeout must be a positive number of seconds, got "
                             f"{self.timeout}")
        if self.explainer_model is not None and self.endpoint is not None:
            raise InputError("give one explainer: --explainer-model DIR or --endpoint URL, "
                             "not both")
        super().check()

    def settings(self) -> dict[str, Any]:
        """The settings recorded in EXPLAIN.json's ``explainer`` (never a key; the variable
        name only)."""
        out = {k: v for k, v in self.to_dict().items() if k not in ("resume", "quiet")}
        out["scorers"] = self.scorer_list
        out["model"] = self.explainer_model or self.model_name
        return out
