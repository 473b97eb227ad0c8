"""Output tokens of neurons: which tokens a neuron's output direction promotes and suppresses.

A neuron writes along one direction of the residual stream: for ``mlp`` neurons the column of
the down projection it feeds (GPT-2's ``c_proj`` row, BERT's ``output.dense`` column, Llama's
``down_proj`` column); for ``hidden`` and ``resid`` neurons, the basis vector of its
dimension. Its effect on the output is that direction times the unembedding (the output
embedding matrix of a causal-LM or masked-LM head): one logit per vocabulary token, the
largest are the tokens it *promotes*, the smallest those it *suppresses*.

What is included and what is not (the usual "direct logit" reading): the direction and the
unembedding only. Not included: the final norm (GPT-2's ``ln_f``, Llama's ``norm``; it
rescales and recentres the residual stream per token), the masked-LM head's transform
(BERT's dense + GELU + LayerNorm before the decoder), the output bias, every later layer
(the path through attention and later MLPs), and the neuron's activation value (the
direction is taken at activation +1). Sites ``attn_out`` and ``mlp_out`` are residual
dimensions like ``hidden``. Tokens are shown decoded (byte-level BPE bytes become text).

Example:
    >>> out = output_tokens("path/to/gpt2", "mlp", [1, 2], width=3072, k=5)   # doctest: +SKIP
    >>> out[1][17]["promote"][:1]                                             # doctest: +SKIP
    [['Paris', 0.41]]
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroheat.errors import UnsupportedModelError
from neuroheat.formats.bytelevel import decode_token
from neuroheat.model.architectures import architecture_of, base_of, hidden_size, submodule

__all__ = ["SOFTCAP_KEYS", "Unembed", "down_rows", "output_directions", "output_tokens", "token_texts",
           "unembed_of", "unembedding"]

log = logging.getLogger(__name__)

WHAT = ("direction × unembedding, no final norm, head transform, bias or later layers")


def unembedding(model: Any) -> np.ndarray:
    """float32 ``[vocab, hidden]``: the output embedding matrix, or UnsupportedModelError.

    Example:
        >>> unembedding(load_model("path/to/gpt2", "causal").model).shape   # doctest: +SKIP
        (50257, 768)
    """
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if head is None or getattr(head, "weight", None) is None:
        raise UnsupportedModelError(
            f"{type(model).__name__} has no unembedding (no causal-LM or masked-LM head): "
            "output tokens need a decoder or masked-LM checkpoint; leave out --model")
    return head.weight.detach().float().cpu().numpy()


def output_directions(model: Any, component: str, layer: int, width: int) -> np.ndarray:
    """float32 ``[width, hidden]``: the residual-stream direction each neuron writes to.

    Example:
        >>> output_directions(gpt2, "mlp", layer=1, width=3072).shape   # doctest: +SKIP
        (3072, 768)
    """
    try:
        hidden = int(unembedding(model).shape[1])
    except UnsupportedModelError:  # a model loaded without its head (the dla site)
        hidden = int(hidden_size(model.config) or 0)
    if component not in ("mlp", "dla"):  # a dla neuron writes along its mlp neuron's column
        if width != hidden:
            raise UnsupportedModelError(f"the store's width {width} is not the model's hidden "
                                        f"size {hidden}: is --model the store's model?")
        return np.eye(width, dtype=np.float32)
    w = down_rows(model, layer).detach().float().cpu().numpy()
    if w.shape != (width, hidden):
        raise UnsupportedModelError(f"the down projection of layer {layer} is {w.shape}, not "
                                    f"[{width}, {hidden}]: is --model the store's model?")
    return w


def down_rows(model: Any, layer: int) -> Any:
    """The down projection of block ``layer``'s MLP as ``[width, hidden]`` rows (a view of the
    weight, where it lives; row n = the direction neuron n writes to).

    Example:
        >>> down_rows(gpt2, 1).shape   # doctest: +SKIP
        torch.Size([3072, 768])
    """
    arch = architecture_of(getattr(model.config, "model_type", None))
    if arch is None or not arch.mlp or not arch.blocks:
        raise UnsupportedModelError("output tokens of mlp neurons need an architecture whose "
                                    "MLP is mapped (see neuroheat.model.architectures)")
    block = submodule(base_of(model), arch.blocks)[layer - 1]
    if arch.mlp_at == "output":  # BERT: the neurons feed `output.dense`
        return submodule(block, "output.dense").weight.T  # Linear [out, in] -> [in, out]
    down = submodule(block, arch.mlp)
    return down.weight.T if hasattr(down, "in_features") else down.weight  # Conv1D [in, out]


#: config keys of final-logit soft-capping (``logits = cap * tanh(logits / cap)``): Gemma2/3
SOFTCAP_KEYS = ("final_logit_softcapping",)


@dataclass
class Unembed:
    """The readout after the final norm: ``weight`` ``[vocab, hidden]`` (float32 tensor), the
    output ``bias`` (or None) and the soft-capping constant (or None)."""

    weight: Any
    bias: Any = None
    softcap: float | None = None

    def __call__(self, x: Any, *, cap: bool = True) -> Any:
        """Logits of normalised residuals ``x`` ``[..., hidden]`` (float32), soft-capped
        unless ``cap=False``."""
        out = x.float() @ self.weight.to(x.device).T
        if self.bias is not None:
            out = out + self.bias.to(x.device)
        if cap and self.softcap:
            out = self.softcap * (out / self.softcap).tanh()
        return out


def softcap_of(config: Any) -> float | None:
    """The final-logit soft-capping constant a config sets, or None."""
    for key in SOFTCAP_KEYS:
        value = getattr(config, key, None)
        if value:
            return float(value)
    return None


def unembed_of(model: Any) -> Unembed:
    """The :class:`Unembed` of ``model``: its LM head (tied or not) with its bias. A model
    without a head (``AutoModel``) uses its input embeddings when the config ties them, else
    the head is read from the checkpoint at ``model.name_or_path`` (loaded once more, on CPU).

    Example:
        >>> unembed_of(gpt2_lm).weight.shape   # doctest: +SKIP
        torch.Size([50257, 768])
    """
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if head is None or getattr(head, "weight", None) is None:
        cfg = model.config
        if getattr(cfg, "tie_word_embeddings", False) and hasattr(model, "get_input_embeddings"):
            head = model.get_input_embeddings()
        else:
            head = _checkpoint_head(model)
    bias = getattr(head, "bias", None)
    return Unembed(head.weight.detach().float(),
                   bias.detach().float() if bias is not None else None,
                   softcap_of(model.config))


def _checkpoint_head(model: Any) -> Any:
    from neuroheat.model.loading import load_model

    source = getattr(model, "name_or_path", "") or getattr(model.config, "_name_or_path", "")
    try:
        full = load_model(source, "causal", device="cpu").model if source else None
    except Exception as exc:  # noqa: BLE001 - any reason the head cannot be loaded
        raise UnsupportedModelError(f"this model has no LM head and its checkpoint "
                                    f"{source!r} gives none ({exc}); load it with its "
                                    "causal-LM head") from None
    head = full.get_output_embeddings() if full is not None else None
    if head is None:
        raise UnsupportedModelError("this model has no LM head (unembedding); direct logit "
                                    "attribution needs a causal-LM checkpoint")
    return head


def token_texts(tokenizer: Any, ids: Any) -> list[str]:
    """Readable text of each token id (byte-level pieces decoded, blanks shown quoted).

    Example:
        >>> token_texts(tok, [464, 3797])   # doctest: +SKIP
        ['The', ' cat']
    """
    return _decode(tokenizer, np.asarray(ids).reshape(-1))


def _decode(tokenizer: Any, ids: np.ndarray) -> list[str]:
    tokens = tokenizer.convert_ids_to_tokens([int(i) for i in ids])
    out = []
    for tok in tokens:
        try:
            text = tokenizer.convert_tokens_to_string([tok])
        except Exception:  # noqa: BLE001 - a tokenizer that cannot decode one token
            text = tok
        if "\ufffd" in text:  # one byte of a longer character: show the byte (\xNN)
            text = decode_token(tok)
        out.append(text if text.strip() else repr(text))
    return out


def output_tokens(model: Any, component: str, layers: Sequence[int], width: int,
                  k: int = 10) -> dict[int, dict[int, dict[str, Any]]]:
    """``{layer: {neuron: {"promote": [[token, logit], ...], "suppress": [...], "what"}}}``:
    the k tokens with the largest and the smallest logit of each neuron's direction (see the
    module docstring). ``model``: anything :func:`~neuroheat.model.loading.load_model`
    takes; its causal-LM or masked-LM head is loaded.

    Example:
        >>> output_tokens(loaded, "hidden", [0], 32, k=3)[0][5]["promote"]   # doctest: +SKIP
    """
    from neuroheat.model.loading import load_model

    loaded = load_model(model, "base", device="cpu")
    arch = architecture_of(getattr(loaded.config, "model_type", None))
    task = "causal" if arch is not None and arch.causal else "mlm"
    try:
        loaded = load_model(model, task, device="cpu")
    except Exception as exc:  # noqa: BLE001 - a checkpoint without that head
        raise UnsupportedModelError(f"cannot load a {task} head for this model ({exc}); output "
                                    "tokens need a decoder or masked-LM checkpoint") from None
    U = unembedding(loaded.model)
    out: dict[int, dict[int, dict[str, Any]]] = {}
    for layer in layers:
        logits = output_directions(loaded.model, component, int(layer), width) @ U.T
        kk = min(k, logits.shape[1])
        top = np.argsort(-logits, axis=1, kind="stable")[:, :kk]
        low = np.argsort(logits, axis=1, kind="stable")[:, :kk]
        out[int(layer)] = {
            n: {"promote": [[t, float(v)] for t, v in
                            zip(_decode(loaded.tokenizer, top[n]), logits[n, top[n]],
                                strict=True)],
                "suppress": [[t, float(v)] for t, v in
                             zip(_decode(loaded.tokenizer, low[n]), logits[n, low[n]],
                                 strict=True)],
                "what": WHAT}
            for n in range(width)}
    return out
