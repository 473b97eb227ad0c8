"""Shards read as one store, merged by copy or by virtual datasets, and the errors that guard it."""

from __future__ import annotations

import shutil

import h5py
import numpy as np
import pytest

import neuroheat as nh
from neuroheat.cli import main
from neuroheat.errors import OutputExistsError, StoreError
from neuroheat.store import RunningStats, StoreWriter, write_store
from neuroheat.store.merge import merge_stores
from neuroheat.store.sharded import ShardedStore

N = 11
CUTS = [0, 4, 4, 9, 11]  # shard 1 is empty, as a shard with no whole plan block is


def _corpus(seed=0):
    rng = np.random.default_rng(seed)
    vocab = ["the", "cat", "sat", "é", "<b>", "dog", "vin##ken"]
    sentences = [[str(w) for w in rng.choice(vocab, size=rng.integers(0, 6))]
                 for _ in range(N)]
    acts = [rng.normal(size=(len(s), 2, 6)) * 3 + 1 for s in sentences]
    return sentences, acts


def _meta(i, a, b, **extra):
    meta = {"model": "toy", "aggregation": "last", "corpus_sha256": "abc",
            "sentence_start": a, "sentence_stop": b, "num_sentences_total": N,
            "shard_index": i, "num_shards": len(CUTS) - 1}
    meta.update(extra)
    return meta


@pytest.fixture
def shards(tmp_path):
    sentences, acts = _corpus()
    full = write_store(tmp_path / "full.h5", sentences, acts, layers=[0, 3], dtype="float16",
                       meta=_meta(0, 0, N, num_shards=1))
    paths = []
    for i, (a, b) in enumerate(zip(CUTS[:-1], CUTS[1:], strict=True)):
        path = tmp_path / f"acts-shard{i}of4.h5"
        if a == b:  # write_store cannot tell the width of no sentences
            w = StoreWriter.create(path, [], layers=[0, 3], width=6, attrs=_meta(i, a, b))
            w.finalize(RunningStats.empty((2, 6)))
        else:
            write_store(path, sentences[a:b], acts[a:b], layers=[0, 3], dtype="float16",
                        meta=_meta(i, a, b))
        paths.append(path)
    return full, paths


def test_glob_and_list_read_like_one_store(shards, tmp_path):
    full, paths = shards
    with nh.open_store(full) as one:
        for source in (str(tmp_path / "acts-shard*of4.h5"), paths[::-1]):
            with nh.open_store(source) as sh:
                assert isinstance(sh, ShardedStore)
                assert [p.name for p in sh.paths] == [p.name for p in paths]
                assert len(sh) == one.num_sentences and sh.num_words == one.num_words
                assert sh.layers == [0, 3] and 3 in sh and 1 not in sh
                assert sh.width == 6 and sh.num_layers == 2 and sh.complete
                np.testing.assert_array_equal(sh.offsets, one.offsets)
                assert sh.vocab == one.vocab and sh.all_words() == one.all_words()
                np.testing.assert_array_equal(sh.word_ids, one.word_ids)
                for i in range(-1, N):
                    assert sh.words(i) == one.words(i)
                    np.testing.assert_array_equal(sh[i], one[i])
                    np.testing.assert_array_equal(sh.sentence(i, layer=3), one.sentence(i, 3))
                np.testing.assert_array_equal(sh.rows(3, 2, one.num_words - 1),
                                              one.rows(3, 2, one.num_words - 1))
                np.testing.assert_array_equal(sh.neuron(0, 5), one.neuron(0, 5))
                got = np.concatenate([c for _, c in sh.iter_rows(3, chunk_mb=1e-4)])
                np.testing.assert_array_equal(got, one.rows(3, 0, one.num_words))
                starts = [s for s, _ in sh.iter_rows(3, chunk_mb=1e-4)]
                assert starts == sorted(starts) and starts[0] == 0
                for key, ref in one.stats().items():
                    np.testing.assert_allclose(sh.stats()[key], ref, rtol=1e-9)
                np.testing.assert_allclose(sh.stats(3)["M2"], one.stats(3)["M2"], rtol=1e-9)
                assert sh.meta["sentence_start"] == 0 and sh.meta["sentence_stop"] == N
                with pytest.raises(StoreError, match="out of range"):
                    sh.words(N)
                with pytest.raises(StoreError, match="stored layers"):
                    sh.rows(1, 0, 2)


@pytest.mark.parametrize("virtual", [False, True])
def test_merge_equals_the_single_store(shards, tmp_path, virtual):
    full, paths = shards
    out = merge_stores(tmp_path / "merged.h5", str(tmp_path / "acts-shard*of4.h5"),
                       virtual=virtual)
    with h5py.File(out, "r") as m, h5py.File(full, "r") as f:
        for layer in ("0", "3"):
            assert m["activations"][layer].is_virtual == virtual
            assert m["activations"][layer][...].tobytes() == f["activations"][layer][...].tobytes()
        for name in ("sentence_offsets", "word_ids"):
            np.testing.assert_array_equal(m[name][...], f[name][...])
        for name in ("words", "vocab"):
            assert m[name].asstr()[...].tolist() == f[name].asstr()[...].tolist()
        for name in f["stats"]:
            np.testing.assert_allclose(m["stats"][name][...], f["stats"][name][...], rtol=1e-9)
    with nh.open_store(out) as store:
        assert store.meta["num_shards"] == 1 and store.meta["sentence_stop"] == N
        assert store.meta["merged_from"] == [p.name for p in paths]
        assert store.meta["model"] == "toy"


def test_virtual_merge_moves_with_its_shards_and_fails_loudly_without_them(shards, tmp_path):
    full, paths = shards
    out = merge_stores(tmp_path / "merged.h5", paths, virtual=True)
    moved = tmp_path / "elsewhere"
    shutil.copytree(tmp_path, moved, ignore=shutil.ignore_patterns("elsewhere"))
    with nh.open_store(moved / "merged.h5") as v, nh.open_store(full) as one:
        np.testing.assert_array_equal(v.rows(0, 0, v.num_words), one.rows(0, 0, one.num_words))
    (moved / paths[2].name).unlink()
    with pytest.raises(StoreError, match="missing"):
        nh.open_store(moved / "merged.h5")
    assert out.exists()


def test_merge_cli_and_output_guards(shards, tmp_path):
    full, paths = shards
    out = tmp_path / "m.h5"
    assert main(["merge", str(out), *map(str, paths)]) == 0
    with pytest.raises(OutputExistsError):
        merge_stores(out, paths)
    assert main(["merge", str(out), str(tmp_path / "acts-shard*of4.h5"), "--virtual",
                 "--overwrite"]) == 0
    with pytest.raises(StoreError, match="one of the shards"):
        merge_stores(paths[0], paths, overwrite=True)


def test_missing_overlapping_and_foreign_shards_are_refused(shards, tmp_path, capsys):
    full, paths = shards
    with pytest.raises(StoreError, match=r"sentences 4\.\.8 of 11 are missing.*--shard 2/4"):
        nh.open_store([paths[0], paths[3]])
    with pytest.raises(StoreError, match=r"sentences 9\.\.10 of 11 are missing.*--shard 3/4"):
        nh.open_store(paths[:3])
    with pytest.raises(StoreError, match="overlaps"):
        nh.open_store([*paths, full])
    with pytest.raises(StoreError, match="more than once"):
        nh.open_store([paths[0], paths[0], *paths[1:]])
    sentences, acts = _corpus()
    other = write_store(tmp_path / "other.h5", sentences[9:], acts[9:], layers=[0, 3],
                        meta=_meta(3, 9, N, model="other-model"))
    with pytest.raises(StoreError, match="model is 'other-model' vs 'toy'"):
        nh.open_store([*paths[:3], other])
    lay = write_store(tmp_path / "lay.h5", sentences[9:], acts[9:], layers=[0, 4],
                      dtype="float16", meta=_meta(3, 9, N))
    with pytest.raises(StoreError, match="same --layers"):
        nh.open_store([*paths[:3], lay])
    wide = write_store(tmp_path / "wide.h5", sentences[9:], [a[:, :, :3] for a in acts[9:]],
                       layers=[0, 3], dtype="float16", meta=_meta(3, 9, N))
    with pytest.raises(StoreError, match="width 3"):
        nh.open_store([*paths[:3], wide])
    plain = write_store(tmp_path / "plain.h5", sentences[9:], acts[9:], layers=[0, 3],
                        dtype="float16", meta={"model": "toy", "aggregation": "last"})
    with pytest.raises(StoreError, match="record no sentence range"):
        nh.open_store([*paths[:3], plain])
    assert main(["merge", str(tmp_path / "x.h5"), str(paths[0]), str(paths[3])]) == 2
    assert "missing" in capsys.readouterr().err


def test_stores_without_ranges_concatenate_in_the_given_order(tmp_path):
    sentences, acts = _corpus(1)
    a = write_store(tmp_path / "a.h5", sentences[:5], acts[:5], meta={"model": "toy"})
    b = write_store(tmp_path / "b.h5", sentences[5:], acts[5:], meta={"model": "toy"})
    with nh.open_store([b, a]) as sh:
        assert sh.all_words() == [w for s in sentences[5:] + sentences[:5] for w in s]


def test_analysis_over_shards_equals_the_merged_store(shards, tmp_path):
    full, paths = shards
    with nh.open_store(paths) as sh, nh.open_store(full) as one:
        got = nh.analysis.top_words(sh, 3, 2, k=5)
        ref = nh.analysis.top_words(one, 3, 2, k=5)
    assert [w for w, _ in got] == [w for w, _ in ref]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in ref], rtol=1e-9)
