"""The batch budget holds for long-context models (it used to grow to the context length)."""

from __future__ import annotations

import torch
import transformers as tf

from neuroheat.corpora import pydoc_sentences
from neuroheat.extract.activations import _build
from neuroheat.model.loading import load_model
from neuroheat.model.sites import get_site_kind
from tests.helpers import builders


def test_budget_is_kept_with_a_128k_context():
    tok = builders.bpe_tokenizer("gpt2")
    tok.model_max_length = 131072
    torch.manual_seed(0)
    model = tf.LlamaModel(tf.LlamaConfig(
        vocab_size=len(tok), hidden_size=16, intermediate_size=24, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=131072,
        pad_token_id=0, bos_token_id=0, eos_token_id=0)).eval()
    loaded = load_model((model, tok), device="cpu")
    assert loaded.max_length == 131072
    words = pydoc_sentences(200)
    runner, units, encoded = _build(loaded, get_site_kind("resid"), [1], words, "last", False,
                                    256, "float32", None)
    micro = [[u.windows[j] for j in group] for u in units for group in u.micro]
    assert len(micro) > 10
    for group in micro:
        longest = max(w.stop - w.start for w in group)
        assert len(group) == 1 or longest * len(group) <= 256
