"""Rows of the architecture table, each checked against an independent forward hook."""

from __future__ import annotations

import numpy as np
import torch

from neuroheat.extract import align
from neuroheat.extract.activations import activations_for_words
from tests.helpers import builders

WORDS = [["The", "unbelievable", "board", "met", "."], ["Vinken", ",", "61", "years", "old"]]


def _tiny_llama():
    from transformers import LlamaConfig, LlamaModel

    tok = builders.bpe_tokenizer("gpt2")
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=56,
                      num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2,
                      max_position_embeddings=64)
    torch.manual_seed(0)
    return LlamaModel(cfg).eval(), tok


def test_llama_mlp_neurons_are_the_down_projection_input():
    """Gated MLP: the stored neurons are act(gate(x)) * up(x), the input of down_proj."""
    model, tok = _tiny_llama()
    got = activations_for_words((model, tok), WORDS, component="mlp", device="cpu")
    for words, arr in zip(WORDS, got, strict=True):
        # token ids from neuroheat's alignment (tested against word_ids() in tests/extract)
        enc = align.encode_corpus(tok, [words], "last")[0]
        sp = align.special_tokens(tok)
        ids = torch.tensor([sp.prefix + enc.ids.tolist() + sp.suffix])
        kept = []
        hooks = [layer.mlp.down_proj.register_forward_pre_hook(lambda m, a, kept=kept: kept.append(a[0][0]))
                 for layer in model.layers]
        with torch.no_grad():
            model(input_ids=ids)
        for h in hooks:
            h.remove()
        states = torch.stack(kept, 1)[len(sp.prefix):len(sp.prefix) + len(enc.ids)].numpy()
        last = [np.flatnonzero(enc.row_of_token == r)[-1] for r in range(len(words))]
        ref = states[last]
        assert arr.shape == (len(words), 3, 56)
        np.testing.assert_allclose(arr, ref, atol=1e-5, rtol=0)
