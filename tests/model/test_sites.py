"""The site registry, the architecture table, and neuron targets over any site."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from neuroheat.attribution import saliency
from neuroheat.errors import InputError, UnsupportedModelError
from neuroheat.model import architectures
from neuroheat.model.hooks import record, run_until_stopped
from neuroheat.model.loading import load_model
from neuroheat.model.sites import SITE_KINDS, Site, get_site_kind, read_sites
from tests.helpers import builders

TEXT = "The quick brown fox jumps over the lazy dog ."


def test_registry_and_site_names():
    assert sorted(SITE_KINDS) == ["attn_out", "dla", "hidden", "mlp", "mlp_out", "resid"]
    assert str(Site("mlp", 5)) == "mlp.5" and Site.parse("hidden.0") == Site("hidden", 0)
    with pytest.raises(InputError, match="KIND.LAYER"):
        Site.parse("mlp")
    with pytest.raises(InputError, match="choose one of dla, hidden, mlp, resid, attn_out, mlp_out"):
        get_site_kind("attention")


def test_architecture_table():
    assert architectures.architecture_of("gpt2").causal
    assert not architectures.architecture_of("bert").causal
    assert architectures.architecture_of("no-such-model") is None
    assert "distilbert" in architectures.supported("mlp")
    assert len({t for a in architectures.ARCHITECTURES for t in a.model_types}) == sum(
        len(a.model_types) for a in architectures.ARCHITECTURES), "a model_type is listed twice"


def test_early_exit_runs_no_later_block(tiny_bert):
    """With stop=True the blocks after the deepest requested layer never run, and the values
    equal those of a full forward pass."""
    model = AutoModel.from_pretrained(tiny_bert).eval()
    tok = AutoTokenizer.from_pretrained(tiny_bert)
    enc = tok(TEXT, return_tensors="pt")
    ran = []
    handle = model.encoder.layer[1].register_forward_hook(lambda *a: ran.append(1))
    with torch.no_grad():
        early = read_sites(get_site_kind("mlp"), model, enc["input_ids"],
                           enc["attention_mask"], [1])
    assert ran == []
    with torch.no_grad():
        model(**enc)
        with record([(model.encoder.layer[0].intermediate, "output")], {1: 0}) as rec:
            assert run_until_stopped(model, **enc) is not None
    handle.remove()
    assert ran == [1, 1]  # the two full passes
    assert torch.equal(early[:, :, 0], rec.values[0])


def test_mlp_site_neuron_target_matches_hook_gradient(tiny_bert):
    """target=("mlp.1", n, p): the gradient of that MLP neuron, checked against a forward hook
    on BERT's `intermediate` module (independent of neuroheat's site code)."""
    lm = load_model(tiny_bert, device="cpu")
    sal = saliency(lm, TEXT, target=("mlp.1", 7, 3), method="gradient", normalize="none")
    assert sal.target == "neuron" and sal.labels == ["mlp.L1N7@3"]
    enc = lm.tokenizer(TEXT, return_tensors="pt")
    x = lm.model.get_input_embeddings()(enc["input_ids"]).detach().requires_grad_(True)
    kept = []
    h = lm.model.encoder.layer[0].intermediate.register_forward_hook(lambda m, a, o: kept.append(o))
    lm.model(inputs_embeds=x)
    h.remove()
    (g,) = torch.autograd.grad(kept[0][0, 3, 7], x)
    np.testing.assert_allclose(sal.matrix[0], g[0].norm(dim=-1).numpy(), rtol=1e-5, atol=1e-8)
    both = saliency(lm, TEXT, target=[("mlp.1", 7, 3), (2, 5, 3)], method="gradient",
                    normalize="none")
    np.testing.assert_allclose(both.matrix[0], sal.matrix[0], rtol=1e-6)
    with pytest.raises(InputError, match="mlp layers are 1 to 2"):
        saliency(lm, TEXT, target=("mlp.0", 1, 1))
    with pytest.raises(InputError, match="width of mlp.2 is 64"):
        saliency(lm, TEXT, target=("mlp.2", 64, 1))


def test_mlp_site_unsupported_architecture(tmp_path):
    lm = load_model(builders.tiny_t5(tmp_path / "t5"), device="cpu")
    with pytest.raises(UnsupportedModelError, match="supported: bert"):
        saliency(lm, TEXT, target=("mlp.1", 0, 1))
