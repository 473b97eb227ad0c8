"""The ``dla`` site: extraction stores each mlp neuron's direct effect on the next token's
logit, equal to a per-sentence plain-torch reference, and top-words and report read it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neuroheat as nh
from neuroheat.cli import main
from neuroheat.extract import align
from tests.lens.reference import states

LINES = ["The quick brown fox jumps over the lazy dog .", "cats dogs",
         "A neuron in a transformer responds to some words more than others ."]


def reference(path, words):
    """``[n_words, L, n]`` of one sentence, aggregated like the store (last subword)."""
    ref = states(path, " ".join(words))
    enc = align.encode_corpus(ref.tokenizer, [words], "last")[0]
    sp = align.special_tokens(ref.tokenizer)
    ids = sp.prefix + enc.ids.tolist() + sp.suffix
    assert ids == ref.ids
    head = ref.model.get_output_embeddings().weight
    per_token = []
    with torch.no_grad():
        x = ref.resid[-1]
        sigma = ref.sigma(x)[:, 0]
        for layer in range(1, ref.model.config.num_hidden_layers + 1):
            down = ref.down(layer)
            w_out = down.weight if down.weight.shape[0] == ref.mlp[0].shape[-1] else down.weight.T
            values = torch.zeros_like(ref.mlp[layer - 1])
            for t in range(len(ids) - 1):  # the last token has no next token: 0
                u = head[ids[t + 1]]
                values[t] = ref.mlp[layer - 1][t] * ref.effect(w_out, sigma[t], u)
            per_token.append(values)
    tokens = torch.stack(per_token, 1).numpy()[len(sp.prefix):len(sp.prefix) + len(enc.ids)]
    rows = [tokens[np.flatnonzero(enc.row_of_token == r)[-1]] for r in range(len(words))]
    return np.stack(rows)


@pytest.mark.parametrize("family", ["gpt2", "llama"])
def test_dla_site_equals_the_reference(causal_models, tmp_path, family):
    path = causal_models[family]
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    out = tmp_path / "dla.h5"
    assert main(["extract", str(path), str(corpus), str(out), "--component", "dla",
                 "--dtype", "float32", "--device", "cpu", "--batch-tokens", "64",
                 "--quiet"]) == 0
    with nh.open_store(out) as store:
        assert store.meta["component"] == "dla" and store.num_layers == 3
        for i, line in enumerate(LINES):
            np.testing.assert_allclose(store.sentence(i), reference(path, line.split()),
                                       atol=1e-4, rtol=0)
        assert np.all(store.sentence(1)[-1] == 0)   # the line's last word: no next token
    if family == "gpt2":
        assert main(["top-words", str(out), "--layer", "2", "--neuron", "5"]) == 0
        site = tmp_path / "site"
        assert main(["report", str(out), "-o", str(site), "--model", str(path),
                     "--quiet"]) == 0
        assert (site / "index.html").exists()


def test_dla_site_refuses_post_norm_families(causal_models, tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("cats dogs\n")
    code = main(["extract", str(causal_models["gemma2"]), str(corpus), str(tmp_path / "g.h5"),
                 "--component", "dla", "--quiet"])
    assert code == 2 and "post-norm" in capsys.readouterr().err
