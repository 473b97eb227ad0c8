"""Tiny random-weight causal LMs of five families for the lens tests, saved once per session.

Every 1-d parameter (norm gains, biases) gets seeded noise, so a lens that forgot Gemma's
``1 + w``, a LayerNorm's centring or a bias would fail; Gemma2 caps its final logits at 2.0
(tiny random logits are far below the default cap of 30, where tanh is almost linear).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import builders

COMMON = dict(hidden_size=32, intermediate_size=48, num_hidden_layers=3, num_attention_heads=4,
              num_key_value_heads=2, max_position_embeddings=64)
FAMILIES = ("llama", "gpt2", "gemma2", "gpt_neox", "olmo2")


def build_causal(family: str, path: Path, seed: int = 0) -> Path:
    """Save a tiny causal LM of ``family`` with the BPE test tokenizer to ``path``."""
    import torch
    import transformers as tf

    tok = builders.bpe_tokenizer("gpt2")
    kw = dict(COMMON, vocab_size=len(tok), pad_token_id=0, bos_token_id=0, eos_token_id=0)
    if family == "gpt2":
        cfg = tf.GPT2Config(vocab_size=len(tok), n_embd=32, n_layer=3, n_head=4,
                            n_positions=64, bos_token_id=0, eos_token_id=0)
        cls = tf.GPT2LMHeadModel
    elif family == "llama":
        cfg, cls = tf.LlamaConfig(**kw), tf.LlamaForCausalLM
    elif family == "gemma2":
        cfg = tf.Gemma2Config(**kw, head_dim=8, final_logit_softcapping=2.0)
        cls = tf.Gemma2ForCausalLM
    elif family == "gpt_neox":
        kw.pop("num_key_value_heads")
        cfg, cls = tf.GPTNeoXConfig(**kw), tf.GPTNeoXForCausalLM
    elif family == "olmo2":
        cfg, cls = tf.Olmo2Config(**kw), tf.Olmo2ForCausalLM
    else:
        raise KeyError(family)
    torch.manual_seed(seed)
    model = cls(cfg).eval()
    with torch.no_grad():
        for param in model.parameters():
            if param.ndim == 1:
                param.add_(0.3 * torch.randn_like(param))
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def causal_models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("lens_models")
    return {family: build_causal(family, root / family) for family in FAMILIES}
