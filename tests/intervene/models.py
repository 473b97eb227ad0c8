"""Tiny random-weight causal LMs of the acceptance families for the intervention tests.

Llama, Qwen2 and Gemma2 use grouped-query attention (4 heads, 2 key/value heads); every 1-d
parameter gets seeded noise (as in tests/lens/conftest.py, whose builder this extends).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from tests.lens.conftest import build_causal

FAMILIES = ("llama", "qwen2", "gemma2", "gpt2", "gpt_neox")
DOWN = {"gpt2": "mlp.c_proj", "gpt_neox": "mlp.dense_4h_to_h"}  # else mlp.down_proj


def build(family: str, path: Path, seed: int = 0) -> Path:
    """Save a tiny causal LM of ``family`` (qwen2 too) with the BPE test tokenizer; matrices
    are scaled by 5 so a single neuron moves the predictions well above float rounding."""
    import torch
    import transformers as tf

    if family != "qwen2":
        build_causal(family, path, seed)
        model = tf.AutoModelForCausalLM.from_pretrained(path)
        with torch.no_grad():
            for param in model.parameters():
                if param.ndim == 2:
                    param.mul_(5.0)
        model.save_pretrained(path)
        return path
    import transformers as tf

    from tests.helpers import builders
    from tests.lens.conftest import COMMON

    tok = builders.bpe_tokenizer("gpt2")
    cfg = tf.Qwen2Config(**COMMON, vocab_size=len(tok), pad_token_id=0, bos_token_id=0,
                         eos_token_id=0)
    torch.manual_seed(seed)
    model = tf.Qwen2ForCausalLM(cfg).eval()
    with torch.no_grad():
        for param in model.parameters():
            if param.ndim == 1:
                param.add_(0.3 * torch.randn_like(param))
            else:
                param.mul_(5.0)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


@cache
def loaded(path: str):
    """``(model, tokenizer)`` of a saved tiny model, eval mode, float32, CPU."""
    import transformers as tf

    model = tf.AutoModelForCausalLM.from_pretrained(path).eval()
    tok = tf.AutoTokenizer.from_pretrained(path)
    return model, tok


def down_proj(model, layer: int):
    """The down projection of block ``layer`` (1-based), found independently of neuroheat."""
    base = model.base_model
    blocks = base.h if hasattr(base, "h") else base.layers
    obj = blocks[layer - 1]
    for part in DOWN.get(model.config.model_type, "mlp.down_proj").split("."):
        obj = getattr(obj, part)
    return obj
