"""``ExtractConfig``: every setting of an extraction, for the Python API and ``neuroheat extract``.

Fields with ``match=True`` are recorded in the store's attributes (with the values actually
used, e.g. the resolved batch budget) and must agree for ``--resume`` and for merging shards;
``record=True`` fields are recorded for provenance only.

Example:
    >>> cfg = ExtractConfig(layers="0,6", aggregation="first")
    >>> cfg.aggregation, "aggregation" in ExtractConfig.fields_where("match")
    ('first', True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neuroheat.config import Config, option
from neuroheat.extract.align import AGGREGATIONS
from neuroheat.model.placement import DEVICE_MAPS, MODEL_DTYPES

DTYPES = ("float16", "float32")
UNITS = ("words", "tokens")


@dataclass(frozen=True)
class ExtractConfig(Config):
    """Settings of :func:`neuroheat.extract_activations` (see each field's help)."""

    layers: Any = option(None, 'layers to keep, e.g. "0,6" or "1-4" (0 = embeddings; default '
                         "all)", metavar="SPEC")
    aggregation: str = option("last", "how subwords become one row per word (default last, "
                              "like NeuroX)", choices=AGGREGATIONS, match=True)
    dtype: str = option("float16", "storage dtype", choices=DTYPES, match=True)
    component: str = option("hidden", "site kind to store: hidden (default) or mlp",
                            match=True)
    saes: Any = option((), "SAE folder (SAELens, sparsify or Gemma Scope) whose latents to "
                       "store sparsely instead of COMPONENT, as DIR or SITE=DIR (e.g. "
                       "resid.3=DIR); repeat for SAEs at several layers", flag="--sae",
                       metavar="DIR")
    include_special_tokens: bool = option(False, "also store rows for [CLS]/[SEP]-like tokens",
                                          match=True)
    random_weights: bool = option(False, "random weights from the model's config (control "
                                  "baseline)", match=True)
    seed: int = option(0, "seed for --random-weights", match=True)
    device: str | None = option("auto", "auto (default: CUDA when available), cpu, cuda, cuda:N")
    model_dtype: str = option("auto", "dtype of the model weights and compute: auto (default: "
                              "the checkpoint's dtype on CUDA, float32 on CPU)",
                              choices=MODEL_DTYPES, match=True)
    device_map: str | None = option(None, "spread the model over all GPUs with accelerate "
                                    "(instead of --device): auto, balanced or sequential",
                                    choices=DEVICE_MAPS)
    attn_implementation: str | None = option(None, "attention kernel passed to transformers: "
                                             "eager, sdpa, flash_attention_2... (default: sdpa "
                                             "where the model supports it, else eager)",
                                             record=True, metavar="NAME")
    batch_tokens: int | None = option(None, "padded tokens per forward pass (default 1024 on "
                                      "CPU, 16384 on GPU)", type=int, match=True)
    max_length: int | None = option(None, "window length in tokens (default: the model's "
                                    "limit)", type=int, match=True)
    text_field: str = option("text", "the field (column) of a JSONL, Parquet or saved-dataset "
                             "corpus that holds the text (default text)", match=True,
                             metavar="NAME")
    units: str = option("words", "rows of the store: words (default: each corpus row is a "
                        "sentence of whitespace-separated words) or tokens (each row a "
                        "document cut into contexts of --context-tokens tokens)",
                        choices=UNITS, match=True)
    context_tokens: int | None = option(None, "with --units tokens: tokens per context, BOS "
                                        "included", type=int, match=True, metavar="N")
    concatenate: bool = option(False, "with --units tokens: join documents with EOS into "
                               "contexts of exactly N tokens (as SAELens and tuned-lens do)",
                               match=True)
    shard: Any = option(None, 'process shard I of N ("I/N"), or "auto" from torchrun/SLURM '
                        "variables")
    plan_shards: int | None = option(None, "cut the corpus into this many parts of equal "
                                     "bytes, batches never crossing a part (default: the "
                                     "number of shards); a one-process run with --plan-shards "
                                     "N equals N merged shards bit for bit", type=int,
                                     match=True)
    plan_block: int | None = option(None, "sentences per plan block inside a part: batches "
                                    "never cross blocks (default from the corpus size; env "
                                    "NEUROHEAT_PLAN_BLOCK)", type=int, match=True)
    resume: bool = option(False, "continue an interrupted run", cli=False)
    overwrite: bool = option(False, "replace an existing OUTPUT", cli=False)
    quiet: bool = option(False, "no progress bar or info messages")
    checkpoint_seconds: float = option(10.0, "how often progress is made durable for resume",
                                       cli=False)
    revision: str | None = option(None, "model revision (branch, tag or commit) in the local "
                                  "cache", record=True)
    trust_remote_code: bool = option(False, "allow model code from the model directory (off "
                                     "by default)")

    def check(self) -> None:
        from neuroheat.errors import InputError

        if self.dtype not in DTYPES:
            raise InputError(f"dtype {self.dtype!r} is not supported; choose float16 or float32")
        if self.aggregation not in AGGREGATIONS:
            raise InputError(f"unknown aggregation {self.aggregation!r}; choose one of "
                             f"{', '.join(AGGREGATIONS)}")
        if self.units not in UNITS:
            raise InputError(f"unknown units {self.units!r}; choose words or tokens")
        if self.units == "tokens":
            if self.context_tokens is None or int(self.context_tokens) < 2:
                raise InputError("--units tokens needs --context-tokens N (N >= 2: the tokens "
                                 "per context, BOS included), e.g. --context-tokens 128")
        elif self.context_tokens or self.concatenate:
            raise InputError("--context-tokens and --concatenate apply to --units tokens; add "
                             "--units tokens or drop them")
        if not str(self.text_field):
            raise InputError("--text-field is empty; name the field that holds the text")
        super().check()
