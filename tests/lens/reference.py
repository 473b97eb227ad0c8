"""Plain-torch references for the lens tests: hooks on the Hugging Face modules, the model's
own final-norm module and head, nothing from neuroheat.lens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import transformers as tf

TEXT = "The quick brown fox jumps over the lazy dog"
# family: (path of the decoder from the causal LM, its blocks, its final norm, down projection)
PARTS = {
    "gpt2": ("transformer", "h", "ln_f", "mlp.c_proj"),
    "llama": ("model", "layers", "norm", "mlp.down_proj"),
    "gemma2": ("model", "layers", "norm", "mlp.down_proj"),
    "olmo2": ("model", "layers", "norm", "mlp.down_proj"),
    "gpt_neox": ("gpt_neox", "layers", "final_layer_norm", "mlp.dense_4h_to_h"),
}
LAYERNORM = {"gpt2", "gpt_neox"}


def sub(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass
class States:
    model: Any
    tokenizer: Any
    ids: list[int]
    resid: list[Any]          # L+1 tensors [T, d]
    mlp: list[Any]            # L tensors [T, n]: the down projection's input
    logits: Any               # the model's logits [T, vocab]

    @property
    def family(self) -> str:
        return self.model.config.model_type

    def norm(self) -> Any:
        return sub(self.model, ".".join(PARTS[self.family][0:3:2]))

    def down(self, layer: int) -> Any:
        base, blocks, _, down = PARTS[self.family]
        return sub(sub(self.model, f"{base}.{blocks}")[layer - 1], down)

    def readout(self, h: Any, cap: bool = True) -> Any:
        """The model's own final norm and head on residuals ``h``."""
        out = self.model.get_output_embeddings()(self.norm()(h))
        cap_at = getattr(self.model.config, "final_logit_softcapping", None)
        return cap_at * torch.tanh(out / cap_at) if cap and cap_at else out

    def sigma(self, x: Any) -> Any:
        """The final norm's scale on ``x`` ``[..., d]`` (plain formula, module's eps)."""
        norm = self.norm()
        eps = getattr(norm, "variance_epsilon", None) or norm.eps
        c = x - x.mean(-1, keepdim=True) if self.family in LAYERNORM else x
        return (c.pow(2).mean(-1, keepdim=True) + eps).sqrt()

    def effect(self, c: Any, sigma: Any, u: Any) -> Any:
        """⟨g ⊙ C(c)/σ, u⟩ with the norm's gain (Gemma's 1 + w)."""
        norm = self.norm()
        g = norm.weight + (1.0 if self.family == "gemma2" else 0.0)
        c = c - c.mean(-1, keepdim=True) if self.family in LAYERNORM else c
        return (g * c / sigma * u).sum(-1)


def states(model_or_path: Any, text: str = TEXT, tokenizer: Any = None) -> States:
    """One unpadded forward of ``text`` with plain hooks on every block and down projection."""
    if isinstance(model_or_path, tf.PreTrainedModel):
        model, tok = model_or_path, tokenizer
    else:
        model = tf.AutoModelForCausalLM.from_pretrained(model_or_path).eval()
        tok = tf.AutoTokenizer.from_pretrained(model_or_path)
    ids = tok(text)["input_ids"]
    base, blocks, _, down = PARTS[model.config.model_type]
    layers = sub(model, f"{base}.{blocks}")
    resid, mlp, hooks = [], [], []
    hooks.append(layers[0].register_forward_pre_hook(
        lambda m, a, kw: resid.append((a[0] if a else kw["hidden_states"])[0]), with_kwargs=True))
    for block in layers:
        hooks.append(block.register_forward_hook(
            lambda m, a, out: resid.append((out[0] if isinstance(out, tuple) else out)[0])))
        hooks.append(sub(block, down).register_forward_pre_hook(
            lambda m, a: mlp.append(a[0][0])))
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]))
    for h in hooks:
        h.remove()
    return States(model, tok, ids, resid, mlp, out.logits[0])
