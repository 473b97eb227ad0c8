"""The logit lens against plain torch on five families: the model's own final norm module and
head applied to hooked residuals (layer L: the model's logits)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from neuroheat.lens import logit_lens
from neuroheat.model.unembedding import token_texts
from tests.lens.conftest import FAMILIES
from tests.lens.reference import TEXT, states


@pytest.mark.parametrize("family", FAMILIES)
def test_every_layer_equals_the_reference(causal_models, family):
    ref = states(causal_models[family])
    res = logit_lens(causal_models[family], TEXT, top_k=4, target=" the", device="cpu")
    n = ref.model.config.num_hidden_layers
    assert res.layers == list(range(n + 1))
    assert len(res.tokens) == len(ref.ids)
    with torch.no_grad():
        target = ref.tokenizer(" the", add_special_tokens=False)["input_ids"][0]
        final = torch.log_softmax(ref.logits.double(), -1)
        for layer in range(n + 1):
            logp = torch.log_softmax(ref.readout(ref.resid[layer]).double(), -1)
            p = logp.exp()
            np.testing.assert_allclose(res.entropy[layer], (-(p * logp).sum(-1)).numpy(),
                                       atol=1e-4)
            kl = (final.exp() * (final - logp)).sum(-1).numpy()
            np.testing.assert_allclose(res.kl_to_final[layer], kl, atol=1e-4)
            top_p, top_i = p.topk(4, -1)
            for t in range(len(ref.ids)):
                got = res.top[layer][t]
                np.testing.assert_allclose([q for _, q in got], top_p[t].numpy(), atol=1e-4)
                assert [name for name, _ in got] == token_texts(ref.tokenizer, top_i[t])
            np.testing.assert_allclose(res.target["logprob"][layer], logp[:, target].numpy(),
                                       atol=1e-4)
            assert res.target["rank"][layer] == (logp > logp[:, target:target + 1]).sum(-1
                                                                                        ).tolist()
    # layer L is the model's prediction exactly
    model_p = torch.softmax(ref.logits.double(), -1)
    top_p, top_i = model_p.topk(4, -1)
    for t in range(len(ref.ids)):
        assert [name for name, _ in res.top[n][t]] == token_texts(ref.tokenizer, top_i[t])
        np.testing.assert_allclose([q for _, q in res.top[n][t]], top_p[t].numpy(), atol=1e-4)
    assert max(abs(v) for v in res.kl_to_final[n]) < 1e-9


def test_gemma2_softcapping_is_applied(causal_models):
    """Without the cap the lens' last row would differ from the model: the cap matters here."""
    ref = states(causal_models["gemma2"])
    with torch.no_grad():
        capped = ref.readout(ref.resid[-1])
        uncapped = ref.readout(ref.resid[-1], cap=False)
    assert float((capped - uncapped).abs().max()) > 1e-2
    assert torch.allclose(capped, ref.logits, atol=1e-4)


def test_statistics_are_recomputed_per_layer(causal_models):
    """Early layers must not use the last layer's norm scale (TransformerLens #1076)."""
    ref = states(causal_models["llama"])
    res = logit_lens(causal_models["llama"], TEXT, top_k=1, device="cpu")
    frozen = ref.resid[0] / ref.resid[-1].pow(2).mean(-1, keepdim=True).add(1e-6).sqrt()
    with torch.no_grad():
        wrong = torch.log_softmax(ref.model.lm_head(frozen * ref.norm().weight).double(), -1)
    wrong_entropy = (-(wrong.exp() * wrong).sum(-1)).numpy()
    assert not np.allclose(res.entropy[0], wrong_entropy, atol=1e-3)
    assert all(math.isfinite(v) for row in res.entropy for v in row)
