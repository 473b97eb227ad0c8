"""Saliency on modern decoders: next-token targets, generation and neuron targets at any site."""

from __future__ import annotations

import numpy as np
import torch
import transformers as tf

from neuroheat.attribution import saliency
from neuroheat.model.loading import load_model
from tests.helpers import builders

TEXT = "The quick brown fox jumps over the lazy dog ."


def _qwen():
    tok = builders.bpe_tokenizer("gpt2")
    torch.manual_seed(0)
    model = tf.Qwen2ForCausalLM(tf.Qwen2Config(
        vocab_size=len(tok), hidden_size=32, intermediate_size=48, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
        pad_token_id=0, bos_token_id=0, eos_token_id=0)).eval()
    return load_model((model, tok), device="cpu")


def test_decoder_targets_and_sites():
    lm = _qwen()
    nxt = saliency(lm, TEXT, method="gradient")
    assert nxt.target == "causal" and nxt.n_targets == nxt.n_tokens - 1
    for r, p in enumerate(nxt.target_positions):  # a prediction sees only its prefix
        assert np.all(nxt.matrix[r, p:] == 0)
    gen = saliency(lm, "The quick", generate=3, method="gradient")
    assert gen.target == "generate" and gen.prompt_length is not None
    for site in ("mlp.2", "resid.1", "attn_out.2", "mlp_out.1"):
        sal = saliency(lm, TEXT, target=(site, 3, 4), method="gradient", normalize="none")
        assert sal.labels == [f"{site.split('.')[0]}.L{site.split('.')[1]}N3@4"]
        assert np.all(sal.matrix[0, 5:] == 0) and sal.matrix[0, :5].sum() > 0  # causal
    # the resid.1 target equals a hook on block 0's output, differentiated by hand
    enc = lm.tokenizer(TEXT, return_tensors="pt")
    x = lm.model.get_input_embeddings()(enc["input_ids"]).detach().requires_grad_(True)
    kept = []
    h = lm.model.model.layers[0].register_forward_hook(lambda m, a, out: kept.append(out))
    lm.model(inputs_embeds=x)
    h.remove()
    (g,) = torch.autograd.grad(kept[0][0, 4, 3], x)
    sal = saliency(lm, TEXT, target=("resid.1", 3, 4), method="gradient", normalize="none")
    np.testing.assert_allclose(sal.matrix[0], g[0].norm(dim=-1).numpy(), rtol=1e-5, atol=1e-8)
