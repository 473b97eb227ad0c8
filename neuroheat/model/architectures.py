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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from neuroheat.errors import UnsupportedModelError


@dataclass(frozen=True)
class Architecture:
    """How to reach the parts of one model family that neuroheat reads."""

    model_types: tuple[str, ...]
    causal: bool = False
    blocks: str | None = None          # dotted path from the base model to its block list
    mlp: str | None = None             # dotted path inside a block to the MLP-neuron module
    mlp_at: Literal["input", "output"] = "input"   # neurons = that module's input or output
    shared_blocks: bool = False        # one module serves several layers (ALBERT): count calls
    check: Callable[[Any], str | None] | None = None   # config -> reason it is unsupported


def _albert_check(config: Any) -> str | None:
    groups = int(getattr(config, "inner_group_num", 1))
    if groups != 1:
        return (f"component 'mlp' supports ALBERT with inner_group_num=1 only; this model has "
                f"{groups}: use component='hidden'")
    return None


ARCHITECTURES: tuple[Architecture, ...] = (
    Architecture(("bert", "roberta", "xlm-roberta", "camembert", "electra"),
                 blocks="encoder.layer", mlp="intermediate", mlp_at="output"),
    Architecture(("distilbert",), blocks="transformer.layer", mlp="ffn.lin2"),
    Architecture(("albert",), blocks="encoder.albert_layer_groups",
                 mlp="albert_layers.0.ffn_output", shared_blocks=True, check=_albert_check),
    Architecture(("gpt2",), causal=True, blocks="h", mlp="mlp.c_proj"),
    Architecture(("llama",), causal=True, blocks="layers", mlp="mlp.down_proj"),
    # Causal models whose MLP neurons are not mapped yet (hidden states work for every model).
    Architecture(("gpt_neo", "gptj", "gpt_neox", "mistral", "opt", "bloom", "qwen2",
                  "phi", "falcon", "codegen", "gemma", "olmo"), causal=True),
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
    if arch is None or getattr(arch, part) is None:
        raise UnsupportedModelError(
            f"{what} does not support {kind!r} models yet; supported: "
            f"{', '.join(supported(part))}. Use component='hidden' for this model")
    if arch.check is not None and (reason := arch.check(cfg)):
        raise UnsupportedModelError(reason)
    return arch
