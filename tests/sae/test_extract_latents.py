"""SAE latents extracted into a sparse store equal the reference encoding of hooked activations.

One extraction with three SAEs (one per format, at three sites and layers) in one forward
pass; each stored latent is compared, within 1e-5 in float32, to the formula of
tests/sae/saes.py applied to the activations of a plain forward hook.
"""

from __future__ import annotations

import numpy as np
import pytest

import neuroheat as nh
from neuroheat.errors import StoreError
from neuroheat.store.stats import RunningStats
from tests.sae import saes
from tests.sae.conftest import HIDDEN, WORDS, token_sites, word_rows

D_SAE = 64


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    """SAELens JumpReLU (layer_norm, b_dec) at resid.1, sparsify top-k at mlp_out.2, Gemma
    Scope JumpReLU at resid.3: {base site: (folder, reference)}."""
    root = tmp_path_factory.mktemp("saes")
    return {
        "resid.1": saes.saelens(root / "lens", "blocks.0.hook_resid_post", HIDDEN, D_SAE,
                                normalize="layer_norm"),
        "mlp_out.2": saes.sparsify(root / "sparsify", "layers.1.mlp", HIDDEN, D_SAE, k=8),
        "resid.3": saes.gemma_scope(root, "res", 2, HIDDEN, D_SAE),
    }


def _reference(llama, three, aggregation):
    model, tok = llama
    out = {}
    for i, words in enumerate(WORDS):
        states, enc = token_sites(model, tok, words)
        for site, (_, ref) in three.items():
            per_word = word_rows(states[site], enc, len(words), aggregation)
            out[site, i] = np.stack([saes.encode(t, ref).mean(axis=0) for t in per_word])
    return out


def _extract(llama, three, path, **kw):
    return nh.extract_activations(llama, WORDS, path, saes=[str(p) for p, _ in three.values()],
                                  dtype="float32", device="cpu", batch_tokens=24, quiet=True,
                                  **kw)


@pytest.mark.parametrize("aggregation", ["last", "average"])
def test_latents_equal_reference_for_each_format(llama, three, tmp_path, aggregation):
    path = _extract(llama, three, tmp_path / "lat.h5", aggregation=aggregation)
    ref = _reference(llama, three, aggregation)
    with nh.open_store(path) as store:
        assert store.sparse and store.layers == [1, 2, 3] and store.width == D_SAE
        assert store.meta["sites"] == "sae.resid.1,sae.mlp_out.2,sae.resid.3"
        assert [r["format"] for r in store.saes] == ["saelens", "sparsify", "gemma_scope"]
        dense = []
        for i in range(len(WORDS)):
            got = store.sentence(i)
            for pos, site in enumerate(three):
                np.testing.assert_allclose(got[:, pos], ref[site, i], atol=1e-5, rtol=0)
            dense.append(got)
        rows = np.concatenate(dense)
        assert 0 < np.count_nonzero(rows) < rows.size
        # top-k: at most k non-zeros per token (the average of one-token words: exactly <= k)
        if aggregation == "last":
            assert (np.count_nonzero(rows[:, 1], axis=1) <= 8).all()
        # statistics over every row, zeros included, and density
        want = RunningStats.of(rows)
        for pos, layer in enumerate(store.layers):
            st = store.stats(layer)
            np.testing.assert_allclose(st["mean"], want.mean[pos], atol=1e-12)
            np.testing.assert_allclose(st["M2"], want.M2[pos], atol=1e-9)
            np.testing.assert_array_equal(st["min"], want.min[pos])
            np.testing.assert_array_equal(st["max"], want.max[pos])
            assert (st["count"] == len(rows)).all()
            np.testing.assert_array_equal(store.active(layer),
                                          np.count_nonzero(rows[:, pos], axis=0))


def test_resume_refuses_other_sae_sites(llama, tmp_path):
    """--resume checks the stored layers, as dense extraction does (before, the same SAE given
    at another site passed: its fingerprint is that of the weights alone)."""
    folder, _ = saes.saelens(tmp_path / "sae", "blocks.0.hook_resid_post", HIDDEN, D_SAE)
    path = tmp_path / "lat.h5"
    kw = dict(dtype="float32", device="cpu", batch_tokens=24, quiet=True)
    nh.extract_activations(llama, WORDS, path, saes=[f"resid.1={folder}"], **kw)
    with pytest.raises(StoreError, match=r"it stores layers \[1\], this run asks for \[2\]"):
        nh.extract_activations(llama, WORDS, path, saes=[f"resid.2={folder}"], resume=True, **kw)
    # the same sites resume (here: nothing left to do)
    nh.extract_activations(llama, WORDS, path, saes=[f"resid.1={folder}"], resume=True, **kw)
