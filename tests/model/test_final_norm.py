"""The final-norm table and the unembedding readout against the Hugging Face modules of every
mapped decoder family: FinalNorm(x) equals the model's own final norm on any residual."""

from __future__ import annotations

import pytest
import torch
import transformers as tf

from neuroheat.errors import UnsupportedModelError
from neuroheat.model.architectures import base_of, submodule
from neuroheat.model.final_norm import NORMS, final_norm_of, post_norm_families
from neuroheat.model.unembedding import softcap_of, unembed_of
from tests.model.test_families import FAMILIES, _build


def _randomise(model):
    with torch.no_grad():
        for p in model.parameters():
            if p.ndim == 1:
                p.add_(0.3 * torch.randn_like(p))
    return model


@pytest.mark.parametrize("family", sorted(set(FAMILIES) | {"gpt2"}))
def test_final_norm_equals_the_module(family):
    if family == "gpt2":
        model = tf.GPT2Model(tf.GPT2Config(vocab_size=50, n_embd=32, n_layer=1, n_head=4))
    else:
        model, _ = _build(family)
    model = _randomise(model.eval())
    norm = final_norm_of(model)
    module = submodule(base_of(model), NORMS[family].path)
    x = 3.0 * torch.randn(2, 5, 32) + 1.0
    with torch.no_grad():
        torch.testing.assert_close(norm(x), module(x).float(), atol=1e-5, rtol=1e-5)
        # the scale is recomputed from the residual it is given
        torch.testing.assert_close(norm(10 * x), module(10 * x).float(), atol=1e-4, rtol=1e-5)
    assert norm.kind == ("layer" if family in ("gpt2", "gpt_neox", "olmo") else "rms")


def test_post_norm_families_and_unmapped_models():
    assert set(post_norm_families()) == {"gemma2", "gemma3_text", "olmo2"}
    bert = tf.BertModel(tf.BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=1,
                                      num_attention_heads=4, intermediate_size=64))
    with pytest.raises(UnsupportedModelError, match="final norm of 'bert'"):
        final_norm_of(bert)


def test_unembed_of_tied_untied_and_a_headless_checkpoint(tmp_path):
    cfg = dict(vocab_size=50, hidden_size=32, intermediate_size=48, num_hidden_layers=1,
               num_attention_heads=4, num_key_value_heads=2)
    torch.manual_seed(0)
    lm = tf.LlamaForCausalLM(tf.LlamaConfig(**cfg)).eval()
    assert torch.equal(unembed_of(lm).weight, lm.lm_head.weight)
    lm.save_pretrained(tmp_path / "llama")
    from tests.helpers.builders import bpe_tokenizer

    bpe_tokenizer("gpt2").save_pretrained(tmp_path / "llama")
    base = tf.AutoModel.from_pretrained(tmp_path / "llama")   # no head: read from checkpoint
    assert torch.equal(unembed_of(base).weight, lm.lm_head.weight)
    tied = tf.Gemma2Model(tf.Gemma2Config(**cfg, head_dim=8, final_logit_softcapping=5.0))
    assert torch.equal(unembed_of(tied).weight, tied.embed_tokens.weight)
    assert softcap_of(tied.config) == 5.0 and softcap_of(lm.config) is None
    logits = unembed_of(tied)(torch.randn(3, 32) * 100)
    assert float(logits.abs().max()) <= 5.0
