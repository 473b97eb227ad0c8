"""Saliency methods on tiny real models: the one-hot recipe, captum, completeness."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from neuroheat.attribution import saliency
from neuroheat.model.loading import load_model
from tests.helpers import builders

TEXT = "The quick brown fox jumps over the lazy dog ."


@pytest.fixture(scope="module")
def bert_mlm(tmp_path_factory):
    return load_model(builders.tiny_bert(tmp_path_factory.mktemp("mlm"), head="mlm"), "mlm",
                      device="cpu")


@pytest.fixture(scope="module")
def gpt2(tmp_path_factory):
    return load_model(builders.tiny_gpt2(tmp_path_factory.mktemp("gpt"), head="causal"),
                      "causal", device="cpu")


def one_hot_recipe(lm, text, causal=False):
    """The published recipe: mask one position, one-hot @ E, backward, norm of grad wrt one-hot."""
    model, tok = lm.model, lm.tokenizer
    enc = tok(text, return_tensors="pt")
    ids = enc["input_ids"][0]
    emb = model.get_input_embeddings().weight
    extra = {k: enc[k] for k in ("token_type_ids",) if k in enc}
    special = [w is None for w in enc.word_ids()]
    rows, positions = [], []
    for p in range(1 if causal else 0, len(ids)):
        if special[p]:
            continue
        masked = ids.clone()
        if not causal:
            masked[p] = tok.mask_token_id
        onehot = F.one_hot(masked, emb.shape[0]).to(emb.dtype)[None].requires_grad_(True)
        logits = model(inputs_embeds=onehot @ emb, **extra).logits
        value = logits[0, p - 1 if causal else p, ids[p]]
        (grad,) = torch.autograd.grad(value, onehot)
        rows.append(grad[0].norm(dim=-1).double().numpy())
        positions.append(p)
    return np.stack(rows), positions


def test_connectivity_equals_one_hot_recipe_mlm(bert_mlm):
    ref, positions = one_hot_recipe(bert_mlm, TEXT)
    sal = saliency(bert_mlm, TEXT, method="connectivity", normalize="none", batch_targets=5)
    assert sal.target_positions == positions
    assert sal.info["chunks"] > 1  # several batched passes were exercised
    np.testing.assert_allclose(sal.matrix, ref, rtol=1e-5, atol=1e-6)
    assert np.abs(sal.matrix - ref).max() < 1e-5


def test_connectivity_equals_one_hot_recipe_causal(gpt2):
    ref, positions = one_hot_recipe(gpt2, TEXT, causal=True)
    sal = saliency(gpt2, TEXT, method="connectivity", normalize="none")
    assert sal.target_positions == positions
    assert np.abs(sal.matrix - ref).max() < 1e-5
    # causal: a prediction never depends on later tokens
    for r, p in enumerate(positions):
        assert np.all(sal.matrix[r, p:] == 0)


def test_gradient_is_embedding_gradient_norm(bert_mlm):
    sal = saliency(bert_mlm, TEXT, method="gradient", normalize="none", positions=[3])
    model, tok = bert_mlm.model, bert_mlm.tokenizer
    ids = tok(TEXT, return_tensors="pt")["input_ids"]
    masked = ids.clone()
    masked[0, 3] = tok.mask_token_id
    x = model.get_input_embeddings()(masked).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(model(inputs_embeds=x).logits[0, 3, ids[0, 3]], x)
    np.testing.assert_allclose(sal.matrix[0], g[0].norm(dim=-1).numpy(), rtol=1e-5, atol=1e-7)


def _captum_forward(lm, position, token_id):
    def forward(embeds):
        out = lm.model(inputs_embeds=embeds)
        return out.logits[:, position, token_id]
    return forward


def _masked_embeds(lm, text, position):
    tok = lm.tokenizer
    ids = tok(text, return_tensors="pt")["input_ids"]
    masked = ids.clone()
    masked[0, position] = tok.mask_token_id
    return ids, lm.model.get_input_embeddings()(masked).detach()


def test_grad_x_input_matches_captum(bert_mlm):
    from captum.attr import InputXGradient

    sal = saliency(bert_mlm, TEXT, method="grad_x_input", normalize="none")
    for r, p in enumerate(sal.target_positions[:4]):
        ids, x = _masked_embeds(bert_mlm, TEXT, p)
        attr = InputXGradient(_captum_forward(bert_mlm, p, ids[0, p])).attribute(x)
        np.testing.assert_allclose(sal.matrix[r], attr[0].sum(-1).detach().numpy(),
                                   rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("rule", ["gausslegendre", "riemann_middle"])
def test_integrated_gradients_match_captum_and_completeness(bert_mlm, rule):
    from captum.attr import IntegratedGradients

    steps = 16
    sal = saliency(bert_mlm, TEXT, method="integrated_gradients", normalize="none",
                   steps=steps, ig_rule=rule, positions=[2, 5, 8])
    for r, p in enumerate(sal.target_positions):
        ids, x = _masked_embeds(bert_mlm, TEXT, p)
        ig = IntegratedGradients(_captum_forward(bert_mlm, p, ids[0, p]))
        attr, delta = ig.attribute(x, baselines=torch.zeros_like(x), n_steps=steps,
                                   method=rule, return_convergence_delta=True)
        np.testing.assert_allclose(sal.matrix[r], attr[0].sum(-1).detach().numpy(),
                                   rtol=1e-4, atol=1e-6)
        assert sal.info["completeness_delta"][r] == pytest.approx(float(delta), abs=1e-4)


def test_integrated_gradients_completeness(bert_mlm, gpt2):
    for lm in (bert_mlm, gpt2):
        sal = saliency(lm, TEXT, method="integrated_gradients", normalize="none", steps=32,
                       positions=[2, 4, 6, 9])
        f_diff = sal.matrix.sum(1) - np.asarray(sal.info["completeness_delta"])
        # attributions sum to f(x) - f(baseline) within a small fraction of it
        assert np.all(np.abs(sal.info["completeness_delta"]) <= 1e-3 * np.abs(f_diff) + 1e-4)


def test_trapezoid_is_exact_for_linear_paths(bert_mlm):
    # our trapezoid weights sum to 1 (captum's sum to (n-1)/n), so completeness holds
    sal = saliency(bert_mlm, TEXT, method="ig", ig_rule="riemann_trapezoid", steps=48,
                   positions=[3], normalize="none")
    f_diff = sal.matrix.sum() - sal.info["completeness_delta"][0]
    assert abs(sal.info["completeness_delta"][0]) < 1e-2 * abs(f_diff)


def test_ig_baselines(bert_mlm):
    a = saliency(bert_mlm, TEXT, method="ig", baseline="mask", steps=8, positions=[2],
                 normalize="none")
    # with the [MASK] baseline the masked position itself gets exactly zero
    assert a.matrix[0, 2] == 0
    b = saliency(bert_mlm, TEXT, method="ig", baseline="pad", steps=8, positions=[2])
    emb = bert_mlm.model.get_input_embeddings().weight.detach()
    c = saliency(bert_mlm, TEXT, method="ig", baseline=emb[bert_mlm.tokenizer.pad_token_id],
                 steps=8, positions=[2])
    np.testing.assert_allclose(b.matrix, c.matrix)
    e = saliency(bert_mlm, TEXT, method="ig", baseline=emb[5], steps=8, positions=[2])
    d = saliency(bert_mlm, TEXT, method="ig", baseline="zeros", steps=8, positions=[2])
    assert not np.allclose(e.matrix, d.matrix)
    assert a.info["baseline"] == "mask"


def test_batch_size_does_not_change_results(bert_mlm):
    one = saliency(bert_mlm, TEXT, method="grad_x_input", batch_targets=1, normalize="none")
    many = saliency(bert_mlm, TEXT, method="grad_x_input", batch_targets=64, normalize="none")
    np.testing.assert_allclose(one.matrix, many.matrix, rtol=1e-5, atol=1e-7)
    assert one.predictions[0][0][0] == many.predictions[0][0][0]


def test_model_gradients_untouched(bert_mlm):
    saliency(bert_mlm, TEXT, positions=[1])
    assert all(p.grad is None and p.requires_grad for p in bert_mlm.model.parameters())


def test_normalizations(bert_mlm):
    raw = saliency(bert_mlm, TEXT, method="grad_x_input", normalize="none")
    mx = saliency(bert_mlm, TEXT, method="grad_x_input", normalize="max")
    sm = saliency(bert_mlm, TEXT, method="grad_x_input", normalize="sum")
    np.testing.assert_allclose(np.abs(mx.matrix).max(1), 1.0)
    np.testing.assert_allclose(np.abs(sm.matrix).sum(1), 1.0)
    np.testing.assert_allclose(mx.raw(), raw.matrix, rtol=1e-12)
    np.testing.assert_allclose(sm.renormalize("none").matrix, raw.matrix, rtol=1e-12)
