"""Every site of every mapped decoder family against independent references.

References, none of them neuroheat's site code: a pre-hook on each block (resid layer 0) and
hooks on its output (resid layer l) in one unpadded forward; a pre-hook on the MLP's down
projection (mlp, named per family here); the block identity resid[l] = resid[l-1] +
attn_out[l] + mlp_out[l] (attn_out, mlp_out); Hugging Face's hidden_states (hidden, early exit
bit for bit). Words are aggregated with the tokens of neuroheat's alignment (tested against
word_ids() in tests/extract).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers as tf

from neuroheat.errors import UnsupportedModelError
from neuroheat.extract import align
from neuroheat.extract.activations import activations_for_words
from tests.helpers import builders

WORDS = [["The", "unbelievable", "board", "met", "."], ["Vinken", ",", "61", "years", "old"],
         ["cats"]]
COMMON = dict(hidden_size=32, intermediate_size=48, num_hidden_layers=3, num_attention_heads=4,
              num_key_value_heads=2, max_position_embeddings=64)
# family: (config class, model class, extra config, path of the down projection in a block)
FAMILIES = {
    "llama": (tf.LlamaConfig, tf.LlamaModel, {}, "mlp.down_proj"),
    "mistral": (tf.MistralConfig, tf.MistralModel, {}, "mlp.down_proj"),
    "qwen2": (tf.Qwen2Config, tf.Qwen2Model, {}, "mlp.down_proj"),
    "qwen3": (tf.Qwen3Config, tf.Qwen3Model, {"head_dim": 8}, "mlp.down_proj"),
    "gemma": (tf.GemmaConfig, tf.GemmaModel, {"head_dim": 8}, "mlp.down_proj"),
    "gemma2": (tf.Gemma2Config, tf.Gemma2Model, {"head_dim": 8}, "mlp.down_proj"),
    "gemma3_text": (tf.Gemma3TextConfig, tf.Gemma3TextModel, {"head_dim": 8}, "mlp.down_proj"),
    "phi3": (tf.Phi3Config, tf.Phi3Model, {}, "mlp.down_proj"),
    "olmo": (tf.OlmoConfig, tf.OlmoModel, {}, "mlp.down_proj"),
    "olmo2": (tf.Olmo2Config, tf.Olmo2Model, {}, "mlp.down_proj"),
    "gpt_neox": (tf.GPTNeoXConfig, tf.GPTNeoXModel, {}, "mlp.dense_4h_to_h"),
}


def _build(family: str):
    cfg_cls, model_cls, extra, _ = FAMILIES.get(family, (None, None, {}, None))
    tok = builders.bpe_tokenizer("gpt2")
    kw = dict(COMMON, vocab_size=len(tok), pad_token_id=0, bos_token_id=0, eos_token_id=0,
              **extra)
    if family == "gpt_neox":
        kw.pop("num_key_value_heads")
    if family == "mixtral":
        cfg_cls, model_cls = tf.MixtralConfig, tf.MixtralModel
        kw.update(num_local_experts=2, num_experts_per_tok=1)
    torch.manual_seed(0)
    model = model_cls(cfg_cls(**kw)).eval()
    return model, tok


def _sub(obj, path):
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _token_states(model, tok, words, down_path):
    """(enc, resid [T, L+1, H], mlp [T, L, I]) of one unpadded forward, by plain hooks."""
    enc = align.encode_corpus(tok, [words], "last")[0]
    sp = align.special_tokens(tok)
    ids = torch.tensor([sp.prefix + enc.ids.tolist() + sp.suffix])
    resid, mlp = [], []
    hooks = [model.layers[0].register_forward_pre_hook(
        lambda m, a, kw: resid.append((a[0] if a else kw["hidden_states"])[0]), with_kwargs=True)]
    for block in model.layers:
        hooks.append(block.register_forward_hook(
            lambda m, a, out: resid.append((out[0] if isinstance(out, tuple) else out)[0])))
        if down_path:
            hooks.append(_sub(block, down_path).register_forward_pre_hook(
                lambda m, a: mlp.append(a[0][0])))
    with torch.no_grad():
        full = model(input_ids=ids, output_hidden_states=True)
    for h in hooks:
        h.remove()
    n0 = len(sp.prefix)
    keep = slice(n0, n0 + len(enc.ids))
    def stack(xs):
        return torch.stack(xs, 1)[keep].numpy()

    hidden = torch.stack(full.hidden_states, 2)[0][keep].numpy()
    return stack(resid), (stack(mlp) if mlp else None), hidden


def _words(states, tok, words, aggregation):
    enc = align.encode_corpus(tok, [words], aggregation)[0]
    rows = []
    for r in range(len(words)):
        tokens = np.flatnonzero(enc.row_of_token == r)
        pick = {"first": tokens[:1], "last": tokens[-1:], "average": tokens}[aggregation]
        rows.append(states[pick].mean(axis=0))
    return np.stack(rows)


def _sites(model, tok, component, aggregation, layers=None):
    return activations_for_words((model, tok), WORDS, component=component, layers=layers,
                                 aggregation=aggregation, device="cpu", batch_tokens=40)


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("aggregation", ["first", "last", "average"])
def test_every_site_matches_references(family, aggregation):
    model, tok = _build(family)
    got = {site: _sites(model, tok, site, aggregation)
           for site in ("resid", "mlp", "attn_out", "mlp_out", "hidden")}
    for i, words in enumerate(WORDS):
        resid, mlp, hidden = _token_states(model, tok, words, FAMILIES[family][3])
        ref_resid = _words(resid, tok, words, aggregation)
        np.testing.assert_allclose(got["resid"][i], ref_resid, atol=1e-5, rtol=0)
        np.testing.assert_allclose(got["mlp"][i], _words(mlp, tok, words, aggregation),
                                   atol=1e-5, rtol=0)
        assert got["mlp"][i].shape[-1] == 48
        # the block identity: what each block adds is its attention plus its MLP output
        added = got["attn_out"][i] + got["mlp_out"][i]
        np.testing.assert_allclose(got["resid"][i][:, 1:] - got["resid"][i][:, :-1], added,
                                   atol=1e-4, rtol=0)
        np.testing.assert_allclose(got["hidden"][i], _words(hidden, tok, words, aggregation),
                                   atol=1e-5, rtol=0)


@pytest.mark.parametrize("family", ["llama", "gemma2", "gpt_neox"])
def test_early_exit_is_bitwise_the_full_run(family):
    model, tok = _build(family)
    for site, layers in (("hidden", [1]), ("resid", [0, 2]), ("mlp", [1]), ("mlp_out", [2])):
        full = _sites(model, tok, site, "last")
        early = _sites(model, tok, site, "last", layers=layers)
        available = list(range(4)) if site in ("hidden", "resid") else [1, 2, 3]
        cols = [available.index(lay) for lay in layers]
        for a, b in zip(full, early, strict=True):
            assert np.array_equal(a[:, cols], b), site
    ran = []
    hook = model.layers[2].register_forward_hook(lambda *a: ran.append(1))
    _sites(model, tok, "hidden", "last", layers=[1])
    hook.remove()
    assert ran == [], "block 3 ran although only hidden layer 1 was asked for"


def test_mixture_of_experts_mlp_is_a_clear_error():
    model, tok = _build("mixtral")
    with pytest.raises(UnsupportedModelError, match="mixture-of-experts.*mlp_out"):
        _sites(model, tok, "mlp", "last")
    resid = _sites(model, tok, "resid", "last")
    added = [a + m for a, m in zip(_sites(model, tok, "attn_out", "last"),
                                   _sites(model, tok, "mlp_out", "last"), strict=True)]
    for r, add in zip(resid, added, strict=True):
        np.testing.assert_allclose(r[:, 1:] - r[:, :-1], add, atol=1e-4, rtol=0)


def test_unmapped_sites_name_the_supported_families(tiny_bert):
    from transformers import AutoModel, AutoTokenizer

    bert = (AutoModel.from_pretrained(tiny_bert), AutoTokenizer.from_pretrained(tiny_bert))
    with pytest.raises(UnsupportedModelError, match="attn_out.*supported: gpt2, llama"):
        activations_for_words(bert, WORDS[:1], component="attn_out", device="cpu")


@pytest.mark.parametrize("kind", ["bert", "roberta", "gpt2", "albert", "distilbert"])
def test_encoders_and_gpt2_exit_early_bitwise(tiny_models, kind):
    from transformers import AutoModel, AutoTokenizer

    if kind in tiny_models:
        model = AutoModel.from_pretrained(tiny_models[kind]).eval()
        tok = AutoTokenizer.from_pretrained(tiny_models[kind])
    else:
        tok = builders.bert_tokenizer()
        common = dict(vocab_size=len(tok), pad_token_id=tok.pad_token_id,
                      max_position_embeddings=64)
        torch.manual_seed(0)
        if kind == "albert":
            model = tf.AlbertModel(tf.AlbertConfig(
                embedding_size=16, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                intermediate_size=56, **common)).eval()
        else:
            model = tf.DistilBertModel(tf.DistilBertConfig(
                dim=32, n_layers=3, n_heads=4, hidden_dim=40, **common)).eval()
    full = _sites(model, tok, "hidden", "last")
    for layers in ([0], [1], [0, 1]):
        early = _sites(model, tok, "hidden", "last", layers=layers)
        for a, b in zip(full, early, strict=True):
            assert np.array_equal(a[:, layers], b), (kind, layers)
