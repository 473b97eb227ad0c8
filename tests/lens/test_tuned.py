"""The tuned lens: zero translators are the logit lens, random ones match plain torch, and a
lens made for another model is one line and exit 2."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import torch

from neuroheat.cli import main
from neuroheat.lens import TunedLens, logit_lens, tuned_lens
from tests.lens.reference import TEXT, states


def write_lens(folder, d, n, *, scale=0.0, seed=0, bias=True, **config):
    folder.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(seed)
    params = {}
    for i in range(n):
        params[f"{i}.weight"] = scale * torch.randn(d, d, generator=gen)
        if bias:
            params[f"{i}.bias"] = scale * torch.randn(d, generator=gen)
    torch.save(params, folder / "params.pt")
    (folder / "config.json").write_text(json.dumps(
        {"d_model": d, "num_hidden_layers": n, "bias": bias, "lens_type": "linear_tuned_lens",
         **config}))
    return folder


def test_zero_translators_are_the_logit_lens(causal_models, tmp_path):
    path = causal_models["gpt2"]
    lens = write_lens(tmp_path / "zero", 32, 3)
    tuned = tuned_lens(path, TEXT, lens, top_k=3, device="cpu")
    plain = logit_lens(path, TEXT, top_k=3, device="cpu")
    assert tuned.top == plain.top
    np.testing.assert_allclose(tuned.entropy, plain.entropy, atol=1e-9)
    assert tuned.meta["lens"] == "tuned"


@pytest.mark.parametrize("family", ["llama", "gemma2"])
def test_random_translators_match_plain_torch(causal_models, tmp_path, family):
    path = causal_models[family]
    folder = write_lens(tmp_path / family, 32, 3, scale=0.2, seed=1)
    res = logit_lens(path, TEXT, lens="tuned", tuned_lens=str(folder), top_k=3, device="cpu")
    ref = states(path)
    params = torch.load(folder / "params.pt", weights_only=True)
    with torch.no_grad():
        for layer in range(3):
            h = ref.resid[layer]
            h = h + h @ params[f"{layer}.weight"].T + params[f"{layer}.bias"]
            logp = torch.log_softmax(ref.readout(h).double(), -1)
            np.testing.assert_allclose(res.entropy[layer],
                                       (-(logp.exp() * logp).sum(-1)).numpy(), atol=1e-4)
            np.testing.assert_allclose([[q for _, q in cell] for cell in res.top[layer]],
                                       logp.exp().topk(3, -1).values.numpy(), atol=1e-4)
    assert max(abs(v) for v in res.kl_to_final[3]) < 1e-9   # layer L: the model's logits


@pytest.mark.parametrize("d, n, what", [(16, 3, "d_model=16"), (32, 2, "2 layers")])
def test_a_lens_for_another_model_is_one_line_exit_2(causal_models, tmp_path, capsys, d, n,
                                                     what):
    folder = write_lens(tmp_path / "bad", d, n)
    code = main(["lens", str(causal_models["gpt2"]), "--text", TEXT, "--lens", "tuned",
                 "--tuned-lens", str(folder), "-o", str(tmp_path / "out.json")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and what in err and "neuroheat: error:" in err
    assert not (tmp_path / "out.json").exists()


def test_unembed_hash_mismatch_warns(causal_models, tmp_path, caplog):
    folder = write_lens(tmp_path / "hash", 32, 3, unembed_hash="0" * 64)
    with caplog.at_level(logging.WARNING, logger="neuroheat"):
        tuned_lens(causal_models["gpt2"], TEXT, folder, top_k=1, device="cpu")
    assert "unembed_hash" in caplog.text


def test_lens_folder_errors(tmp_path):
    with pytest.raises(ValueError, match="config.json and params.pt"):
        TunedLens.load(tmp_path)
    folder = write_lens(tmp_path / "short", 8, 2)
    params = torch.load(folder / "params.pt", weights_only=True)
    del params["1.weight"]
    torch.save(params, folder / "params.pt")
    with pytest.raises(ValueError, match="translator 1 weight"):
        TunedLens.load(folder)
