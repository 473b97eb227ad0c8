"""A tiny Llama and a plain-hook reference of its sites (no neuroheat site code)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuroheat.extract import align
from tests.helpers import builders

WORDS = [["The", "unbelievable", "board", "met", "."], ["Vinken", ",", "61", "years", "old"],
         ["cats"], ["Researchers", "rank", "the", "top", "words", "of", "every", "neuron"]]
HIDDEN, INTER, N_LAYERS = 32, 48, 3


@pytest.fixture(scope="session")
def llama():
    """(model, tokenizer): a 3-layer Llama, hidden 32, MLP 48, BPE tokenizer."""
    import transformers as tf

    tok = builders.bpe_tokenizer("gpt2")
    cfg = tf.LlamaConfig(vocab_size=len(tok), hidden_size=HIDDEN, intermediate_size=INTER,
                         num_hidden_layers=N_LAYERS, num_attention_heads=4,
                         num_key_value_heads=2, max_position_embeddings=64, pad_token_id=0,
                         bos_token_id=0, eos_token_id=0)
    torch.manual_seed(0)
    return tf.LlamaModel(cfg).eval(), tok


@pytest.fixture(scope="session")
def llama_dir(llama, tmp_path_factory):
    path = tmp_path_factory.mktemp("llama")
    model, tok = llama
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def _keep(got: dict, key: str, value) -> None:
    got.setdefault(key, value)


def token_sites(model, tok, words):
    """{site name: [tokens, width]} of one unpadded forward, by plain forward hooks:
    resid.0..L (block input / outputs), mlp_out.l (block l's mlp output), mlp.l (the down
    projection's input)."""
    enc = align.encode_corpus(tok, [words], "last")[0]
    sp = align.special_tokens(tok)
    ids = torch.tensor([sp.prefix + enc.ids.tolist() + sp.suffix])
    got: dict[str, torch.Tensor] = {}
    hooks = [model.layers[0].register_forward_pre_hook(
        lambda m, a, kw: _keep(got, "resid.0", (a[0] if a else kw["hidden_states"])[0]),
        with_kwargs=True)]
    for i, block in enumerate(model.layers, start=1):
        hooks.append(block.register_forward_hook(
            lambda m, a, out, i=i: _keep(got,
                f"resid.{i}", (out[0] if isinstance(out, tuple) else out)[0])))
        hooks.append(block.mlp.register_forward_hook(
            lambda m, a, out, i=i: _keep(got, f"mlp_out.{i}", out[0])))
        hooks.append(block.mlp.down_proj.register_forward_pre_hook(
            lambda m, a, i=i: _keep(got, f"mlp.{i}", a[0][0])))
    with torch.no_grad():
        model(input_ids=ids)
    for h in hooks:
        h.remove()
    keep = slice(len(sp.prefix), len(sp.prefix) + len(enc.ids))
    return {k: v[keep].numpy() for k, v in got.items()}, enc


def word_rows(states: np.ndarray, enc, n_words: int, aggregation: str) -> np.ndarray:
    """Token rows -> word rows (first / last / average of each word's subwords)."""
    rows = []
    for r in range(n_words):
        tokens = np.flatnonzero(enc.row_of_token == r)
        pick = {"first": tokens[:1], "last": tokens[-1:], "average": tokens}[aggregation]
        rows.append(states[pick])
    return rows
