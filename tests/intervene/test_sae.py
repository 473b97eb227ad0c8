"""SAE latent ablation and splicing against references written here: forward hooks on the
block whose output the SAE reads, with the float64 reference encoder of tests/sae."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file, save_file

import neuroheat as nh
from tests.intervene import reference as R
from tests.intervene.models import loaded
from tests.sae import saes as S

HOOK = "blocks.1.hook_resid_post"   # resid.2 = output of the second block


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_text("\n".join(R.LINES) + "\n", encoding="utf-8")
    return path


def _sae(root, arch):
    k = 8 if arch == "topk" else None
    path, ref = S.saelens(root / arch, HOOK, 32, 64, architecture=arch, k=k, apply_b_dec=True)
    w = load_file(str(path / "sae_weights.safetensors"))
    w["W_dec"] = w["W_dec"] * np.float32(0.05)   # reconstructions of the site's scale
    save_file(w, str(path / "sae_weights.safetensors"))
    ref["W_dec"] = w["W_dec"]
    return path, ref


def _block_hook(model, fn):
    block = model.model.layers[1]
    return [(block, fn)]


def _run(model, tok, hooks):
    handles = [m.register_forward_hook(h) for m, h in hooks]
    try:
        return R.logprobs(model, tok, R.LINES)
    finally:
        for h in handles:
            h.remove()


@pytest.mark.parametrize("method,value", [("zero", None), ("fixed", 2.0)])
def test_latent_ablation_moves_the_site_by_minus_f_times_w_dec(lms, corpus, tmp_path, method,
                                                              value):
    model, tok = loaded(str(lms["llama"]))
    path, ref = _sae(tmp_path, "jumprelu")
    x_rows = []
    handle = model.model.layers[1].register_forward_hook(
        lambda m, a, out: x_rows.append(out[0].detach().double().numpy()))
    clean = R.logprobs(model, tok, R.LINES)
    handle.remove()
    counts = np.stack([S.encode(x, ref)[:, :] > 0 for x in x_rows[:1]])[0].sum(0)
    latent = int(np.argmax(counts))   # a latent active on the first line

    def moved(m, a, out):
        x = out[0].double().numpy()
        f = S.encode(x, ref)[:, latent]
        if value is not None:   # fixed: the site moves by (V - f_i(x)) W_dec[i]
            f = f - value
        return out - torch.from_numpy(f[:, None] * ref["W_dec"][latent].astype(np.float64)
                                      ).float()[None]

    want = R.metrics(clean, _run(model, tok, _block_hook(model, moved)))
    res = nh.intervene.ablate(str(lms["llama"]), corpus, [f"sae.resid.2:{latent}"],
                              sae=(str(path),), method=method, value=value, device="cpu",
                              quiet=True)
    got = res.results[0]
    assert got["units"] == [f"sae.resid.2:{latent}"]
    assert want["kl"] > 1e-6
    assert got["delta_ce"] == pytest.approx(want["delta_ce"], abs=1e-5)
    assert got["kl"] == pytest.approx(want["kl"], abs=1e-5)


@pytest.mark.parametrize("arch", ["standard", "jumprelu", "topk"])
def test_splice_metrics_equal_their_formulas(lms, corpus, tmp_path, arch):
    model, tok = loaded(str(lms["llama"]))
    path, ref = _sae(tmp_path, arch)
    xs = []
    handle = model.model.layers[1].register_forward_hook(
        lambda m, a, out: xs.append(out[0].detach().double().numpy()))
    clean = R.logprobs(model, tok, R.LINES)
    handle.remove()

    def recon(x):
        return S.encode(x, ref) @ ref["W_dec"].astype(np.float64) + ref["b_dec"]

    spliced = _run(model, tok, _block_hook(
        model, lambda m, a, out: torch.from_numpy(recon(out[0].double().numpy())).float()[None]))
    zeroed = _run(model, tok, _block_hook(model, lambda m, a, out: out * 0))
    s, z = R.metrics(clean, spliced), R.metrics(clean, zeroed)
    ce_clean = R.clean_ce(clean)
    ce_sae, ce_zero = ce_clean + s["delta_ce"], ce_clean + z["delta_ce"]
    x = np.concatenate(xs)
    f = S.encode(x, ref)
    r = x - recon(x)
    res = nh.intervene.ablate(str(lms["llama"]), corpus, None, sae=(str(path),), splice=True,
                              device="cpu", quiet=True)
    got = res.splice[0]
    assert got["site"] == "resid.2"
    assert got["ce_loss_score"] == pytest.approx((ce_zero - ce_sae) / (ce_zero - ce_clean),
                                                 abs=1e-4)
    assert got["kl_div_score"] == pytest.approx((z["kl"] - s["kl"]) / z["kl"], abs=1e-4)
    assert got["explained_variance"] == pytest.approx(
        1 - r.var(0).sum() / x.var(0).sum(), abs=1e-5)
    assert got["l0"] == pytest.approx((f > 0).sum(1).mean(), abs=1e-9)
    assert got["dead_fraction"] == pytest.approx(float((f > 0).any(0).__invert__().mean()))
    assert res.results == []
