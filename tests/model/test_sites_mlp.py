"""component="mlp": feed-forward activations after the nonlinearity equal a forward hook's."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

import neuroheat as nh
from neuroheat.errors import InputError, UnsupportedModelError
from neuroheat.extract import align
from neuroheat.extract.activations import activations_for_words
from tests.helpers import builders

WORDS = [["The", "unbelievable", "interpretability", "board", "met", "."],
         ["Vinken", ",", "61", "years", "old"], ["cats"]]


def test_minilm_mlp_store_equals_intermediate_hook(minilm, tmp_path):
    out = nh.extract_activations(minilm, [" ".join(w) for w in WORDS], tmp_path / "m.h5",
                                 component="mlp", dtype="float32", quiet=True)
    tok = AutoTokenizer.from_pretrained(minilm)
    model = AutoModel.from_pretrained(minilm).eval()
    captured = []
    hooks = [layer.intermediate.register_forward_hook(lambda m, a, o: captured.append(o[0]))
             for layer in model.encoder.layer]
    with nh.open_store(out) as store:
        assert store.layers == [1, 2, 3, 4, 5, 6] and store.width == 1536
        assert store.meta["component"] == "mlp"
        for i, words in enumerate(WORDS):
            captured.clear()
            enc = tok(words, is_split_into_words=True, return_tensors="pt")
            with torch.no_grad():
                model(**enc)
            ids = enc.word_ids()
            last = [max(t for t, w in enumerate(ids) if w == k) for k in range(len(words))]
            ref = torch.stack(captured, 1)[last].numpy()  # [words, 6, 1536]
            assert store.words(i) == words
            np.testing.assert_allclose(store.sentence(i), ref, atol=1e-5, rtol=0)
    for h in hooks:
        h.remove()


def _reference(model, tok, words, module_of, where):
    """Unbatched forward with a hook on every layer's feed-forward site; last subword."""
    enc = align.encode_corpus(tok, [words], "last")[0]
    sp = align.special_tokens(tok)
    captured = []
    handles = []
    for m in module_of(model):
        if where == "output":
            handles.append(m.register_forward_hook(lambda _m, a, o: captured.append(o[0])))
        else:
            handles.append(m.register_forward_pre_hook(lambda _m, a: captured.append(a[0][0])))
    with torch.no_grad():
        model(input_ids=torch.tensor([sp.prefix + enc.ids.tolist() + sp.suffix]))
    for h in handles:
        h.remove()
    states = torch.stack(captured, 1)[len(sp.prefix):len(sp.prefix) + len(enc.ids)].numpy()
    rows = [np.flatnonzero(enc.row_of_token == r)[-1] for r in range(len(enc.rows))]
    return states[rows]


def _bert_family(kind):
    import transformers as tf

    tok = builders.bert_tokenizer()
    common = dict(vocab_size=len(tok), pad_token_id=tok.pad_token_id, max_position_embeddings=64)
    torch.manual_seed(0)
    if kind == "electra":
        cfg = tf.ElectraConfig(embedding_size=16, hidden_size=32, num_hidden_layers=2,
                               num_attention_heads=4, intermediate_size=48, **common)
        return tf.ElectraModel(cfg).eval(), tok, lambda m: [lay.intermediate
                                                            for lay in m.encoder.layer], "output"
    if kind == "distilbert":
        cfg = tf.DistilBertConfig(dim=32, n_layers=2, n_heads=4, hidden_dim=40, **common)
        return tf.DistilBertModel(cfg).eval(), tok, lambda m: [lay.ffn.activation
                                                               for lay in m.transformer.layer], \
            "output"
    cfg = tf.AlbertConfig(embedding_size=16, hidden_size=32, num_hidden_layers=3,
                          num_attention_heads=4, intermediate_size=56, **common)
    shared = lambda m: [m.encoder.albert_layer_groups[0].albert_layers[0].activation]  # noqa: E731
    return tf.AlbertModel(cfg).eval(), tok, shared, "output"


@pytest.mark.parametrize("kind", ["bert", "roberta", "gpt2", "electra", "distilbert", "albert"])
def test_mlp_equals_hooks(tiny_models, kind):
    if kind in tiny_models:
        path = tiny_models[kind]
        model, tok = AutoModel.from_pretrained(path).eval(), AutoTokenizer.from_pretrained(path)
        if kind == "gpt2":
            sites, where = (lambda m: [b.mlp.act for b in m.h]), "output"
        else:
            sites, where = (lambda m: [lay.intermediate for lay in m.encoder.layer]), "output"
    else:
        model, tok, sites, where = _bert_family(kind)
    got = activations_for_words((model, tok), WORDS, component="mlp", device="cpu",
                                batch_tokens=40)
    n_layers = model.config.num_hidden_layers if kind != "distilbert" else model.config.n_layers
    for words, arr in zip(WORDS, got, strict=True):
        ref = _reference(model, tok, words, sites, where)
        assert arr.shape == (len(words), n_layers, ref.shape[-1])
        np.testing.assert_allclose(arr, ref, atol=1e-5, rtol=0)
    last = activations_for_words((model, tok), WORDS[:1], component="mlp", layers=[-1],
                                 device="cpu")[0]
    np.testing.assert_allclose(last[:, 0], got[0][:, -1], atol=1e-5, rtol=0)


def test_mlp_layer_numbers_and_unsupported_models(tiny_models):
    bert = (AutoModel.from_pretrained(tiny_models["bert"]),
            AutoTokenizer.from_pretrained(tiny_models["bert"]))
    with pytest.raises(InputError, match="1..2"):
        activations_for_words(bert, WORDS[:1], component="mlp", layers=[0], device="cpu")
    with pytest.raises(UnsupportedModelError, match="supported: bert, roberta.*gpt2"):
        activations_for_words(tiny_models["t5"], WORDS[:1], component="mlp", device="cpu")
    with pytest.raises(InputError, match="hidden, mlp"):
        activations_for_words(bert, WORDS[:1], component="attention", device="cpu")
