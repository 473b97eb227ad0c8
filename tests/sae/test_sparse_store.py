"""The sparse store: same reader API as a dense store of the same values; shards merged and an
interrupted run resumed equal one run (latent bytes identical); refusals are one line."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

import neuroheat as nh
from neuroheat.errors import InputError
from neuroheat.extract.latent_runner import LatentRunner
from tests.sae import saes
from tests.sae.conftest import HIDDEN, WORDS

CORPUS = [" ".join(w) for w in WORDS * 3]
D_SAE = 96


@pytest.fixture(scope="module")
def topk(tmp_path_factory):
    root = tmp_path_factory.mktemp("topk")
    return saes.saelens(root / "lens", "blocks.1.hook_resid_post", HIDDEN, D_SAE,
                        architecture="topk", k=6)[0]


def _run(llama, sae, path, **kw):
    kw = {"device": "cpu", "batch_tokens": 24, "quiet": True, "plan_block": 3, **kw}
    return nh.extract_activations(llama, CORPUS, path, saes=[str(sae)], **kw)


def _latents(path):
    with h5py.File(path, "r") as f:
        g = f["latents/2"]
        return {k: g[k][...] for k in ("indptr", "indices", "values")}, \
            {k: f["stats"][k][...] for k in f["stats"]}


def test_sparse_reader_equals_dense_store(llama, topk, tmp_path):
    path = _run(llama, topk, tmp_path / "lat.h5")
    with nh.open_store(path) as sp:
        dense_rows = [sp.sentence(i) for i in range(sp.num_sentences)]
        words = [sp.words(i) for i in range(sp.num_sentences)]
        dense = nh.store.write_store(tmp_path / "dense.h5", words, dense_rows, layers=[2],
                                     dtype="float16")
        with nh.open_store(dense) as de:
            assert not getattr(de, "sparse", False) and sp.sparse
            assert (sp.num_words, sp.layers, sp.width) == (de.num_words, [2], D_SAE)
            for j in (0, 5, D_SAE - 1):
                np.testing.assert_array_equal(sp.neuron(2, j), de.neuron(2, j))
            for (a, x), (b, y) in zip(sp.iter_rows(2, chunk_mb=0.01), de.iter_rows(2),
                                      strict=False):
                np.testing.assert_array_equal(x, y[a - b:a - b + len(x)])
            np.testing.assert_array_equal(sp.rows(2, 3, 17), de.rows(2, 3, 17))
            for key in ("count", "mean", "min", "max"):
                np.testing.assert_allclose(sp.stats(2)[key], de.stats(2)[key], atol=1e-12)
            np.testing.assert_allclose(sp.stats(2)["M2"], de.stats(2)["M2"], rtol=1e-9)
        rows, lat, val = (np.concatenate(x) for x in zip(*sp.iter_nonzeros(2, chunk_mb=1e-4),
                                                         strict=True))
        full = np.concatenate(dense_rows)[:, 0]
        assert len(val) == np.count_nonzero(full) <= 6 * sp.num_words
        np.testing.assert_array_equal(full[rows, lat], val)
        assert repr(sp).startswith("<neuroheat SparseStore")


def test_merged_shards_and_resume_equal_one_run(llama, topk, tmp_path, monkeypatch):
    one = _run(llama, topk, tmp_path / "one.h5", plan_shards=2)
    for i in range(2):
        _run(llama, topk, tmp_path / "part.h5", shard=f"{i}/2")
    merged = nh.merge_stores(tmp_path / "merged.h5", str(tmp_path / "part-shard*of2.h5"))
    (a, sa), (b, sb) = _latents(one), _latents(merged)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    for key in sa:
        np.testing.assert_allclose(sa[key], sb[key], rtol=1e-12, atol=1e-12)
    with nh.open_store(merged) as m, nh.open_store(one) as o:
        assert m.sparse and m.all_words() == o.all_words()
    from neuroheat.cli import main

    assert main(["merge", str(tmp_path / "cli.h5"), str(tmp_path / "part-shard*of2.h5"),
                 "--json"]) == 0
    assert _latents(tmp_path / "cli.h5")[0]["indices"].tolist() == a["indices"].tolist()
    with pytest.raises(InputError, match="virtual merge of sparse"):
        nh.merge_stores(tmp_path / "v.h5", str(tmp_path / "part-shard*of2.h5"), virtual=True)

    # interrupted after two batches, then resumed: the same bytes as one run
    real, calls = LatentRunner.run, []

    def flaky(self, unit):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, unit)

    monkeypatch.setattr(LatentRunner, "run", flaky)
    with pytest.raises(KeyboardInterrupt):
        _run(llama, topk, tmp_path / "resumed.h5", plan_shards=2, checkpoint_seconds=0)
    monkeypatch.setattr(LatentRunner, "run", real)
    with pytest.raises(nh.errors.IncompleteStoreError):
        nh.open_store(tmp_path / "resumed.h5")
    _run(llama, topk, tmp_path / "resumed.h5", plan_shards=2, resume=True)
    (c, sc) = _latents(tmp_path / "resumed.h5")
    for key in a:
        np.testing.assert_array_equal(a[key], c[key])
    np.testing.assert_array_equal(sa["active"], sc["active"])
    assert not (tmp_path / "resumed.h5.staging").exists()


def test_wrong_width_hook_or_layers_refused(llama, tmp_path):
    wide, _ = saes.saelens(tmp_path / "wide", "blocks.0.hook_resid_post", HIDDEN + 1, 16)
    with pytest.raises(InputError, match=r"33-wide .* resid\.1 of this model is 32 wide"):
        _run(llama, wide, tmp_path / "x.h5")
    z, _ = saes.saelens(tmp_path / "z", "blocks.0.attn.hook_z", HIDDEN, 16)
    with pytest.raises(InputError, match="blocks.0.attn.hook_z.* has no neuroheat site"):
        _run(llama, z, tmp_path / "x.h5")
    deep, _ = saes.saelens(tmp_path / "deep", "blocks.7.hook_resid_post", HIDDEN, 16)
    with pytest.raises(InputError, match="resid layers 0..3"):
        _run(llama, deep, tmp_path / "x.h5")
    ok, _ = saes.saelens(tmp_path / "ok", "blocks.0.hook_resid_post", HIDDEN, 16)
    with pytest.raises(InputError, match="--layers does not apply"):
        _run(llama, ok, tmp_path / "x.h5", layers="1")
    with pytest.raises(InputError, match="--component mlp does not apply"):
        _run(llama, ok, tmp_path / "x.h5", component="mlp")
    same, _ = saes.saelens(tmp_path / "same", "blocks.1.hook_resid_pre", HIDDEN, 16)
    with pytest.raises(InputError, match="share layer 1"):
        nh.extract_activations(llama, CORPUS, tmp_path / "x.h5", saes=[str(ok), str(same)],
                               quiet=True)
    assert not (tmp_path / "x.h5").exists()


def test_early_exit_and_float16_overflow(llama, topk, tmp_path):
    model, _ = llama
    ran = []
    hook = model.layers[2].register_forward_hook(lambda *a: ran.append(1))
    try:
        _run(llama, topk, tmp_path / "early.h5")  # resid.2: blocks 1 and 2 only
    finally:
        hook.remove()
    assert not ran
    huge, _ = saes.saelens(tmp_path / "huge", "blocks.0.hook_resid_post", HIDDEN, 16,
                           architecture="standard")
    from safetensors.numpy import load_file, save_file

    w = load_file(str(huge / "sae_weights.safetensors"))
    w["W_enc"] = w["W_enc"] * 1e8
    save_file(w, str(huge / "sae_weights.safetensors"))
    with pytest.raises(nh.errors.ActivationRangeError,
                       match=r"sae\.resid\.1, line \d+, word .*, latent \d+: value .* does not "
                             r"fit float16; use --dtype float32"):
        _run(llama, huge, tmp_path / "huge.h5")


def test_too_little_space_is_one_line(llama, topk, tmp_path, monkeypatch):
    from neuroheat.store import sparse_writer

    monkeypatch.setattr(sparse_writer, "free_bytes", lambda d: 1000)
    with pytest.raises(nh.errors.DiskSpaceError, match="not enough space for .*lat.h5: it "
                                                       "needs [0-9,]+ more bytes"):
        _run(llama, topk, tmp_path / "lat.h5")
    assert not (tmp_path / "lat.h5").exists()


def test_shards_of_different_saes_refused(llama, topk, tmp_path):
    other, _ = saes.saelens(tmp_path / "other", "blocks.1.hook_resid_post", HIDDEN, D_SAE,
                            architecture="topk", k=6, seed=9)
    _run(llama, topk, tmp_path / "p.h5", shard="0/2")
    _run(llama, other, tmp_path / "p.h5", shard="1/2")
    with pytest.raises(nh.errors.StoreError, match="sae_fingerprints"):
        nh.open_store(str(tmp_path / "p-shard*of2.h5"))
    with pytest.raises(nh.errors.StoreError, match="sae_fingerprints"):
        _run(llama, other, tmp_path / "p.h5", shard="0/2", resume=True)


def test_damaged_latent_store_is_one_line(llama, topk, tmp_path, capsys):
    from neuroheat.cli import main

    path = _run(llama, topk, tmp_path / "lat.h5")
    data = path.read_bytes()
    for name, cut in (("half", len(data) // 2), ("head", 4096)):
        bad = tmp_path / f"{name}.h5"
        bad.write_bytes(data[:cut])
        for argv in (["info", str(bad)], ["top-words", str(bad), "--layer", "2"]):
            capsys.readouterr()
            assert main(argv) == 2, argv
            err = capsys.readouterr().err.strip()
            assert len(err.splitlines()) == 1, err



def test_truncated_latents_detected(llama, topk, tmp_path):
    path = _run(llama, topk, tmp_path / "lat.h5")
    with h5py.File(path, "r") as f:
        cut = f["latents/2/values"].id.get_offset() + 10  # inside the values
    with open(path, "r+b") as fh:
        fh.truncate(cut)
    with pytest.raises(nh.errors.StoreError, match="truncated|not a readable HDF5"):
        nh.open_store(path)
