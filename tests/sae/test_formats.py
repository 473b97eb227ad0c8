"""Loading the three SAE formats, the hook-to-site table, encoding against the formula, and
one-line refusals; the CLI's repeatable --sae."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import neuroheat as nh
from neuroheat.cli import main
from neuroheat.errors import InputError
from neuroheat.model.sites import Site
from neuroheat.sae.formats import detect_format, load_sae, load_saes
from neuroheat.sae.hooks import hook_site, module_site
from tests.sae import saes
from tests.sae.conftest import HIDDEN, INTER, WORDS, token_sites, word_rows


def test_hook_table():
    assert hook_site("blocks.0.hook_resid_pre") == Site("resid", 0)
    assert hook_site("blocks.6.hook_resid_post") == Site("resid", 7)
    assert hook_site("blocks.2.hook_mlp_out") == Site("mlp_out", 3)
    assert hook_site("blocks.2.hook_attn_out") == Site("attn_out", 3)
    assert hook_site("blocks.4.mlp.hook_post") == Site("mlp", 5)
    for bad in ("blocks.3.attn.hook_z", "blocks.3.hook_resid_mid", "embed.hook_embed"):
        with pytest.raises(InputError, match="has no neuroheat site; supported hooks") as e:
            hook_site(bad)
        assert "\n" not in str(e.value)


def test_sparsify_hookpoints(llama):
    model, _ = llama
    assert module_site(model, "layers.1") == Site("resid", 2)
    assert module_site(model, "layers.0.mlp") == Site("mlp_out", 1)
    assert module_site(model, "layers.2.self_attn") == Site("attn_out", 3)
    with pytest.raises(InputError, match="hookpoint 'layers.0.mlp.act_fn' has no"):
        module_site(model, "layers.0.mlp.act_fn")
    import transformers as tf

    gemma2 = tf.Gemma2Model(tf.Gemma2Config(hidden_size=16, intermediate_size=24,
                                            num_hidden_layers=1, num_attention_heads=2,
                                            num_key_value_heads=1, head_dim=8, vocab_size=50))
    assert module_site(gemma2, "layers.0") == Site("resid", 1)
    with pytest.raises(InputError):  # after the post-norm, the MLP's output is no site
        module_site(gemma2, "layers.0.mlp")
    gpt2 = tf.GPT2Model(tf.GPT2Config(n_layer=2, n_embd=16, n_head=2, vocab_size=50))
    assert [module_site(gpt2, h) for h in ("h.1", "h.0.mlp", "h.1.attn")] == \
        [Site("resid", 2), Site("mlp_out", 1), Site("attn_out", 2)]


@pytest.mark.parametrize("normalize", ["none", "constant_norm_rescale", "layer_norm"])
@pytest.mark.parametrize("arch", ["standard", "jumprelu", "topk"])
def test_saelens_encode_matches_formula(tmp_path, arch, normalize):
    path, ref = saes.saelens(tmp_path / "s", "blocks.0.hook_resid_pre", 8, 20,
                             architecture=arch, k=4 if arch == "topk" else None,
                             normalize=normalize, apply_b_dec=arch != "standard")
    sae = load_sae(path)
    assert (detect_format(path), sae.site, sae.d_in, sae.d_sae) == ("saelens", Site("resid", 0),
                                                                    8, 20)
    x = np.random.default_rng(3).normal(0, 1, (30, 8)).astype(np.float32)
    got = sae.encode(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, saes.encode(x, ref), atol=1e-5, rtol=0)
    tok, lat, val = sae.sparse_codes(torch.from_numpy(x))
    dense = np.zeros_like(got)
    dense[tok.numpy(), lat.numpy()] = val.numpy()
    np.testing.assert_array_equal(dense, got)


def test_older_saelens_configs(tmp_path):
    path, ref = saes.saelens(tmp_path / "old", "blocks.1.hook_mlp_out", 8, 12,
                             architecture="standard", flat_hook=True)
    cfg = json.loads((path / "cfg.json").read_text())
    cfg.update(activation_fn_str="topk", activation_fn_kwargs={"k": 3})
    (path / "cfg.json").write_text(json.dumps(cfg))
    sae = load_sae(path)
    assert (sae.site, sae.activation, sae.k) == (Site("mlp_out", 2), "topk", 3)


def test_refusals(tmp_path):
    p, _ = saes.saelens(tmp_path / "n", "blocks.0.hook_resid_pre", 8, 12, normalize="expected_average_only_in")
    with pytest.raises(InputError, match="normalize_activations 'expected_average_only_in' is "
                                         "not supported; supported: none, "):
        load_sae(p)
    p, _ = saes.saelens(tmp_path / "g", "blocks.0.hook_resid_pre", 8, 12, architecture="gated")
    with pytest.raises(InputError, match="architecture 'gated'"):
        load_sae(p)
    p, _ = saes.sparsify(tmp_path / "tc", "layers.0.mlp", 8, 16, 4, extra={"transcode": True})
    with pytest.raises(InputError, match="is a transcoder"):
        load_sae(p)
    p, _ = saes.sparsify(tmp_path / "sk", "layers.0", 8, 16, 4, extra={"skip_connection": True})
    with pytest.raises(InputError, match="skip connection"):
        load_sae(p)
    p, _ = saes.gemma_scope(tmp_path, "att", 3, 8, 16)
    with pytest.raises(InputError, match="blocks.3.attn.hook_z"):
        load_sae(p)
    with pytest.raises(InputError, match="is not an SAE folder.*holds SAE folders layers.0"):
        load_sae(tmp_path / "sk")
    with pytest.raises(InputError, match="does not exist"):
        load_sae(tmp_path / "nothing")


def test_gemma_scope_layout_and_explicit_site(tmp_path):
    p, _ = saes.gemma_scope(tmp_path, "mlp", 4, 8, 16)
    assert load_sae(p).site == Site("mlp_out", 5) and load_sae(p).format == "gemma_scope"
    moved = tmp_path / "elsewhere"
    p.rename(moved)
    with pytest.raises(InputError, match=r"pass its site, e\.g\. --sae resid\.3="):
        load_sae(moved)
    assert [s.site for s in load_saes([f"resid.2={moved}", ("mlp.1", moved)])] == \
        [Site("resid", 2), Site("mlp", 1)]


def test_mlp_neuron_sae_and_cli(llama, llama_dir, tmp_path, capsys):
    """An SAE on MLP neurons (mlp.hook_post, 48 wide) against a hook on down_proj's input,
    extracted through the CLI with two --sae options."""
    model, tok = llama
    mlp, ref_mlp = saes.saelens(tmp_path / "mlp", "blocks.1.mlp.hook_post", INTER, 40,
                                architecture="standard", apply_b_dec=False)
    res, ref_res = saes.sparsify(tmp_path / "sp", "layers.0", HIDDEN, 40, k=5)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(" ".join(w) for w in WORDS) + "\n")
    out = tmp_path / "cli.h5"
    cmd = ["extract", str(llama_dir), str(corpus), str(out), "--sae", str(mlp), "--sae",
           str(res), "--dtype", "float32", "--device", "cpu", "--quiet"]
    assert main(cmd) == 0
    with nh.open_store(out) as store:
        assert store.layers == [1, 2] and store.meta["sites"] == "sae.resid.1,sae.mlp.2"
        for i, words in enumerate(WORDS):
            states, enc = token_sites(model, tok, words)
            for pos, (site, ref) in enumerate((("resid.1", ref_res), ("mlp.2", ref_mlp))):
                rows = word_rows(states[site], enc, len(words), "last")
                want = np.stack([saes.encode(t, ref)[0] for t in rows])
                np.testing.assert_allclose(store.sentence(i)[:, pos], want, atol=1e-5, rtol=0)
    capsys.readouterr()
    assert main(cmd[:6] + ["--sae", str(tmp_path / "nothing"), "--overwrite"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "does not exist" in err, err


def test_saelens_log_threshold(tmp_path):
    from safetensors.numpy import load_file, save_file

    path, ref = saes.saelens(tmp_path / "lt", "blocks.0.hook_resid_pre", 8, 12)
    w = load_file(str(path / "sae_weights.safetensors"))
    w["log_threshold"] = np.log(w.pop("threshold"))
    save_file(w, str(path / "sae_weights.safetensors"))
    x = np.random.default_rng(4).normal(0, 1, (20, 8)).astype(np.float32)
    got = load_sae(path).encode(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, saes.encode(x, ref), atol=1e-5, rtol=0)
