"""The architecture table: what neuroheat knows about each ``config.model_type``.

One :class:`Architecture` row per family says whether the model is causal, where its list of
transformer blocks is (a dotted path from the base model), and where its MLP neurons are hooked
(a dotted path inside one block, and whether the neurons are that module's output or its
input). Adding an architecture is one row here plus its test; site kinds
(:mod:`neuroheat.model.sites`) read this table and nothing else.

MLP neurons are the feed-forward activations *after the nonlinearity* — the input of the down
projection (for gated MLPs, ``act(gate(x)) * up(x)``).

Example:
    >>> architecture_of("gpt2").causal
    True
    >>> architecture_of("bert").mlp
    'intermediate'
    >>> architecture_of("gemma2").mlp_out
    'post_feedforward_layernorm'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from neuroheat.errors import UnsupportedModelError


@dataclass(frozen=True)
class Architecture:
    """How to reach the parts of one model family that neuroheat reads.

    Paths are dotted attribute paths (digits index module lists): ``blocks`` from the base
    model to its list of transformer blocks; ``mlp``, ``attn_out`` and ``mlp_out`` inside one
    block. ``mlp`` names the module holding the MLP neurons (its input, or its output with
    ``mlp_at="output"``); ``attn_out`` / ``mlp_out`` name the modules whose output is the
    sublayer output added to the residual stream (after post-norms where a family has them).
    """

    model_types: tuple[str, ...]
    causal: bool = False
    blocks: str | None = None
    mlp: str | None = None
    mlp_at: Literal["input", "output"] = "input"
    attn_out: str | None = None
    mlp_out: str | None = None
    shared_blocks: bool = False        # one module serves several layers (ALBERT): count calls
    moe: bool = False                  # mixture of experts: no single set of MLP neurons
    check: Callable[[Any], str | None] | None = None   # config -> reason it is unsupported


def _albert_check(config: Any) -> str | None:
    groups = int(getattr(config, "inner_group_num", 1))
    if groups != 1:
        return (f"component 'mlp' supports ALBERT with inner_group_num=1 only; this model has "
                f"{groups}: use component='hidden'")
    return None


# Llama-style decoder blocks: pre-norm, gated MLP, sublayers added as they come out.
_LLAMA = dict(causal=True, blocks="layers", mlp="mlp.down_proj", attn_out="self_attn",
              mlp_out="mlp")
# Gemma2/3 and OLMo2 normalise each sublayer's output before adding it (post-norms).
_POST_NORM = dict(_LLAMA, attn_out="post_attention_layernorm",
                  mlp_out="post_feedforward_layernorm")

ARCHITECTURES: tuple[Architecture, ...] = (
    Architecture(("bert", "roberta", "xlm-roberta", "camembert", "electra"),
                 blocks="encoder.layer", mlp="intermediate", mlp_at="output"),
    Architecture(("distilbert",), blocks="transformer.layer", mlp="ffn.lin2"),
    Architecture(("albert",), blocks="encoder.albert_layer_groups",
                 mlp="albert_layers.0.ffn_output", shared_blocks=True, check=_albert_check),
    Architecture(("gpt2",), causal=True, blocks="h", mlp="mlp.c_proj", attn_out="attn",
                 mlp_out="mlp"),
    Architecture(("llama", "mistral", "qwen2", "qwen3", "gemma", "olmo"), **_LLAMA),
    Architecture(("gemma2", "gemma3_text", "olmo2"), **_POST_NORM),
    Architecture(("phi3",), **dict(_LLAMA, attn_out="resid_attn_dropout",
                                   mlp_out="resid_mlp_dropout")),
    # Pythia: parallel attention and MLP, both added to the block input.
    Architecture(("gpt_neox",), causal=True, blocks="layers", mlp="mlp.dense_4h_to_h",
                 attn_out="post_attention_dropout", mlp_out="post_mlp_dropout"),
    Architecture(("mixtral", "qwen3_moe", "qwen2_moe"),
                 **dict(_LLAMA, mlp=None), moe=True),
    # Causal models whose blocks are not mapped yet (hidden states work for every model).
    Architecture(("gpt_neo", "gptj", "opt", "bloom", "phi", "falcon", "codegen"), causal=True),
)

_BY_TYPE = {t: arch for arch in ARCHITECTURES for t in arch.model_types}


def architecture_of(model_type: str | None) -> Architecture | None:
    """The table row of ``model_type`` (``config.model_type``), or None if it has none."""
    return _BY_TYPE.get(model_type or "")


def supported(part: str) -> list[str]:
    """Model types whose row has ``part`` (e.g. ``"mlp"``), in table order."""
    return [t for arch in ARCHITECTURES if getattr(arch, part) for t in arch.model_types]


def is_causal(model: Any) -> bool:
    """Whether the model predicts left to right (decoder-only LMs, ``is_decoder`` configs)."""
    cfg = model.config
    arch = architecture_of(getattr(cfg, "model_type", None))
    return bool(getattr(cfg, "is_decoder", False)) or bool(arch and arch.causal)


def base_of(model: Any) -> Any:
    """The bare transformer of a model with a head (``model.base_model``), or the model."""
    base = getattr(model, "base_model", model)
    return base if base is not None else model


def encoder_of(model: Any) -> Any:
    """The module whose hidden states neuroheat reads: the encoder of encoder-decoders."""
    if getattr(model.config, "is_encoder_decoder", False) and hasattr(model, "get_encoder"):
        return model.get_encoder()
    return model


def text_config(model_or_config: Any) -> Any:
    """The text part of a (possibly multimodal) config."""
    cfg = getattr(model_or_config, "config", model_or_config)
    return getattr(cfg, "text_config", None) or cfg


def num_layers(config: Any) -> int | None:
    """Number of transformer layers from a config, or None when it cannot be told."""
    cfg = text_config(config)
    for attr in ("num_hidden_layers", "n_layer", "num_layers"):
        value = getattr(cfg, attr, None)
        if isinstance(value, int):
            return value
    return None


def hidden_size(config: Any) -> int | None:
    """Width of the residual stream from a config, or None when it cannot be told."""
    cfg = text_config(config)
    for attr in ("hidden_size", "n_embd", "d_model", "dim"):
        value = getattr(cfg, attr, None)
        if isinstance(value, int):
            return value
    return None


def submodule(root: Any, path: str) -> Any:
    """``root.a.b.0.c`` for ``path="a.b.0.c"`` (digits index module lists)."""
    obj = root
    for part in path.split("."):
        obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
    return obj


def require(model: Any, part: str, what: str) -> Architecture:
    """The row of ``model``, checked to have ``part``; otherwise a one-line error for ``what``."""
    cfg = model.config
    kind = getattr(cfg, "model_type", "") or type(model).__name__
    arch = architecture_of(getattr(cfg, "model_type", None))
    if arch is not None and arch.moe and part == "mlp":
        raise UnsupportedModelError(
            f"{what} is not defined for {kind!r}: it is a mixture-of-experts model, whose "
            "MLP neurons belong to experts that each token routes to differently; use "
            "component='mlp_out' (the routed MLP's output), 'resid', 'attn_out' or 'hidden'")
    if arch is None or getattr(arch, part) is None:
        raise UnsupportedModelError(
            f"{what} does not support {kind!r} models yet; supported: "
            f"{', '.join(supported(part))}. Use component='hidden' for this model")
    if arch.check is not None and (reason := arch.check(cfg)):
        raise UnsupportedModelError(reason)
    return arch
