"""Steering against plain-torch references on tiny families: alpha = 0 changes nothing, greedy
``add`` under the KV cache equals a full recompute each step, ``project`` removes the
direction, ``clamp`` sets the unit, float16 stays finite; STEER.json, figures, one-line CLI
errors, ``mean_difference``."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import neuroheat as nh
from neuroheat.cli import main
from tests.intervene.models import down_proj, loaded
from tests.intervene.patch_helpers import blocks, on_resid

PROMPT = "the cat sat on"


def _vec(width: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(width).astype(np.float32)


@pytest.mark.parametrize("family", ["llama", "qwen2", "gemma2", "gpt2", "gpt_neox"])
def test_alpha_0_reproduces_the_default_tokens(lms, family):
    model, tok = loaded(str(lms[family]))
    v = _vec(model.config.hidden_size)
    for method in ("add", "project"):
        alpha = 0.0 if method == "add" else 1.0
        res = nh.intervene.steer((model, tok), PROMPT, site="resid.2", vector=v, alpha=alpha,
                                 method=method, max_new_tokens=8, device="cpu")
        assert res.steered["token_ids"] == res.default["token_ids"]
        assert len(res.kl) == len(res.steered["token_ids"])
        assert max(res.kl) < 1e-9


@pytest.mark.parametrize("family", ["llama", "gemma2", "gpt2", "gpt_neox"])
def test_greedy_add_equals_a_full_recompute_each_step(lms, family):
    model, tok = loaded(str(lms[family]))
    v = _vec(model.config.hidden_size)
    res = nh.intervene.steer((model, tok), PROMPT, site="resid.2", vector=v, alpha=6.0,
                             max_new_tokens=10, device="cpu")
    assert res.steered["token_ids"] != res.default["token_ids"] or max(res.kl) > 1e-3
    ids = tok(PROMPT)["input_ids"]
    vt = torch.from_numpy(v)
    with torch.no_grad(), on_resid(model, 2, lambda h: h + 6.0 * vt):
        for step, token in enumerate(res.steered["token_ids"]):
            logits = model(torch.tensor([ids])).logits[0, -1]
            assert int(logits.argmax()) == token, step
            ids.append(token)


@pytest.mark.parametrize("positions", ["prompt", "generated"])
def test_steering_positions_equal_a_full_recompute(lms, positions):
    model, tok = loaded(str(lms["llama"]))
    v = _vec(model.config.hidden_size)
    ids = tok(PROMPT)["input_ids"]
    res = nh.intervene.steer((model, tok), PROMPT, site="resid.1", vector=v, alpha=5.0,
                             positions=positions, max_new_tokens=6, device="cpu")
    if positions == "generated":  # the prompt's pass is clean
        assert res.steered["token_ids"][0] == res.default["token_ids"][0]
        assert res.kl[0] < 1e-9
    n = len(ids)
    vt = torch.from_numpy(v)

    def shifted(h):
        h = h.clone()
        part = slice(n, None) if positions == "generated" else slice(0, n)
        h[:, part] += 5.0 * vt
        return h

    with torch.no_grad(), on_resid(model, 1, shifted):
        for token in res.steered["token_ids"]:
            assert int(model(torch.tensor([ids])).logits[0, -1].argmax()) == token
            ids.append(token)


@pytest.mark.parametrize("family", ["llama", "gpt2"])
def test_project_with_alpha_0_removes_the_direction(lms, family):
    model, tok = loaded(str(lms[family]))
    v = _vec(model.config.hidden_size, seed=3)
    unit = torch.from_numpy(v / np.linalg.norm(v))
    seen = []
    nxt = blocks(model)[2]  # its input is resid.2, after the edit

    def pre(m, args, kwargs):
        h = args[0] if args else kwargs["hidden_states"]
        seen.append((h.float() @ unit).abs().max().item())

    handle = nxt.register_forward_pre_hook(pre, with_kwargs=True)
    try:
        res = nh.intervene.steer((model, tok), PROMPT, site="resid.2", vector=v, alpha=0.0,
                                 method="project", max_new_tokens=4, device="cpu")
    finally:
        handle.remove()
    # forward calls: the default generation, the steered one, one unsteered pass for the KL
    n, m = len(res.default["token_ids"]), len(res.steered["token_ids"])
    assert len(seen) == n + m + 1
    assert max(seen[n:n + m]) <= 1e-5 and max(seen[:n]) > 1e-2


def test_clamp_sets_the_unit(lms):
    model, tok = loaded(str(lms["llama"]))
    seen = []
    # a forward hook sees the input after every pre-hook (the edit's included)
    handle = down_proj(model, 2).register_forward_hook(
        lambda m, args, out: seen.append(args[0][..., 17].clone()))
    try:
        res = nh.intervene.steer((model, tok), PROMPT, site="mlp.2", clamp="mlp.2:17=5.0",
                                 max_new_tokens=3, device="cpu")
    finally:
        handle.remove()
    assert res.site == "mlp.2:17" and res.method == "clamp" and res.alpha == 5.0
    n, m = len(res.default["token_ids"]), len(res.steered["token_ids"])
    assert len(seen) == n + m + 1
    assert all(torch.all(x == 5.0) for x in seen[n:n + m])
    assert not any(torch.any(x == 5.0) for x in seen[:n])


def test_float16_steers_without_inf(lms):
    res = nh.intervene.steer(str(lms["llama"]), PROMPT, site="resid.2", vector="mlp.2:3",
                             alpha=1e6, max_new_tokens=5, device="cpu", model_dtype="float16")
    assert all(k is not None and np.isfinite(k) for k in res.kl)
    res = nh.intervene.steer(str(lms["gpt2"]), PROMPT, site="resid.2", vector=_vec(32) * 1e4,
                             method="project", alpha=0.0, max_new_tokens=5, device="cpu",
                             model_dtype="float16")
    assert all(k is not None and np.isfinite(k) for k in res.kl)


def test_sampling_is_seeded(lms):
    model, tok = loaded(str(lms["qwen2"]))
    v = _vec(model.config.hidden_size)
    kw = dict(site="resid.1", vector=v, max_new_tokens=8, device="cpu", temperature=1.5,
              seed=7)
    a = nh.intervene.steer((model, tok), PROMPT, alpha=0.0, **kw)
    assert a.steered["token_ids"] == a.default["token_ids"]
    b = nh.intervene.steer((model, tok), PROMPT, alpha=3.0, **kw)
    c = nh.intervene.steer((model, tok), PROMPT, alpha=3.0, **kw)
    assert b.to_dict() == c.to_dict()


def test_neuron_direction_is_the_down_projection_column(lms):
    from neuroheat.intervene.vectors import read_vector

    for family in ("llama", "gpt2"):
        model, _ = loaded(str(lms[family]))
        w = down_proj(model, 2).weight.detach()
        col = w[:, 5] if family != "gpt2" else w[5]
        np.testing.assert_array_equal(read_vector(model, "mlp.2:5", model.config.hidden_size),
                                      col.numpy())


def test_steer_json_and_figures(lms, tmp_path):
    out = tmp_path / "steer.json"
    rc = main(["steer", str(lms["gpt2"]), "--prompt", PROMPT, "-o", str(out), "--site",
               "resid.2", "--vector", "mlp.2:5", "--alpha", "4", "--max-new-tokens", "5",
               "--device", "cpu"])
    assert rc == 0
    data = json.loads(out.read_text())
    assert set(data) == {"prompt", "site", "method", "alpha", "default", "steered", "kl"}
    assert set(data["default"]) == set(data["steered"]) == {"text", "token_ids"}
    assert len(data["kl"]) == len(data["steered"]["token_ids"]) == 5
    res = nh.intervene.SteerResult.load(out)
    assert res.to_pandas().shape[0] == 5
    for suffix in (".svg", ".html"):
        fig = tmp_path / f"steer{suffix}"
        assert main(["steer", str(lms["gpt2"]), "--prompt", PROMPT, "-o", str(fig), "--site",
                     "mlp_out.1", "--vector", "mlp.1:2", "--max-new-tokens", "4",
                     "--device", "cpu"]) == 0
        text = fig.read_text()
        assert ("<svg" in text if suffix == ".svg" else "<table" in text)
        assert text.count('data-step="3"') >= 2
    page = res.show("html").document()  # a loaded result has no token texts: ids are shown
    assert 'data-role="steered"' in page and f"#{data['steered']['token_ids'][0]}" in page


@pytest.mark.parametrize("extra,message", [
    (["--site", "bogus.2", "--vector", "mlp.2:1"], "cannot be edited"),
    (["--site", "resid.9", "--vector", "mlp.2:1"], "does not exist"),
    (["--site", "resid.2", "--vector", "mlp.2:4096"], "outside"),
    (["--site", "mlp.2", "--vector", "mlp.2:1"], "width"),
    (["--site", "resid.2", "--vector", "WRONG"], "wide"),
    (["--site", "mlp.2", "--clamp", "mlp.2:999=1"], "outside"),
    (["--site", "resid.2", "--clamp", "mlp.2:1=1"], "--site is resid.2"),
    (["--site", "resid.2"], "exactly one of"),
])
def test_bad_input_is_one_line_and_exit_2(lms, tmp_path, extra, message):
    if "WRONG" in extra:
        np.save(tmp_path / "v.npy", np.ones(7, dtype=np.float32))
        extra = [str(tmp_path / "v.npy") if x == "WRONG" else x for x in extra]
    cmd = [sys.executable, "-m", "neuroheat", "steer", str(lms["gpt2"]), "--prompt", PROMPT,
           "-o", str(tmp_path / "s.json"), "--device", "cpu", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    lines = [x for x in proc.stderr.splitlines() if x.startswith("neuroheat: error")]
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_a_model_without_a_head_is_refused(tiny_bert, tmp_path, capsys):
    rc = main(["steer", str(tiny_bert), "--prompt", "a b", "-o", str(tmp_path / "s.json"),
               "--site", "resid.1", "--vector", "mlp.1:0", "--device", "cpu"])
    assert rc == 2
    assert "language model with its head" in capsys.readouterr().err


def test_mean_difference(lms, tmp_path):
    sentences = [["the", "cat", "sat"], ["a", "dog", "ran", "far"], ["the", "end"]]
    labels = [["D", "N", "V"], ["D", "N", "V", "X"], ["D", "N"]]
    store = nh.extract_activations(str(lms["gpt2"]), sentences, tmp_path / "s.h5",
                                   dtype="float32", device="cpu", quiet=True)
    v = nh.intervene.mean_difference(store, labels, "N", "D", 2)
    with nh.open_store(store) as st:
        rows = [st.sentence(i, 2) for i in range(3)]
    nouns = np.mean([rows[i][1] for i in range(3)], axis=0)
    dets = np.mean([rows[i][0] for i in range(3)], axis=0)
    np.testing.assert_allclose(v, nouns - dets, atol=1e-6)
    np.save(tmp_path / "v.npy", v)
    res = nh.intervene.steer(str(lms["gpt2"]), PROMPT, site="resid.2",
                             vector=tmp_path / "v.npy", max_new_tokens=3, device="cpu")
    assert len(res.kl) == 3


def test_sae_vector_is_the_decoder_row(lms, tmp_path):
    from safetensors.numpy import load_file

    from neuroheat.intervene.vectors import read_vector
    from tests.sae import saes as S

    model, tok = loaded(str(lms["llama"]))
    path, _ = S.saelens(tmp_path / "sae", "blocks.1.hook_resid_post", 32, 64)
    w_dec = load_file(str(path / "sae_weights.safetensors"))["W_dec"]
    np.testing.assert_array_equal(read_vector(model, f"sae:{path}:7", 32), w_dec[7])
    res = nh.intervene.steer((model, tok), PROMPT, site="resid.2", vector=f"sae:{path}:7",
                             alpha=3.0, max_new_tokens=3, device="cpu")
    assert len(res.kl) == 3
    with pytest.raises(nh.errors.InputError, match="outside the SAE"):
        read_vector(model, f"sae:{path}:64", 32)
