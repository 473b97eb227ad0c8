"""The store: round trip, container protocol, statistics, incomplete files."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

import neuroheat as nh
from neuroheat.errors import IncompleteStoreError, OutputExistsError, StoreError
from neuroheat.store import RunningStats, StoreWriter, write_store


def _random_store(tmp_path, dtype="float32"):
    rng = np.random.default_rng(1)
    sentences = [["a", "b", "a"], [], ["é", "<script>", "&"], ["b"]]
    acts = [rng.normal(size=(len(s), 2, 5)) for s in sentences]
    path = write_store(tmp_path / "s.h5", sentences, acts, layers=[0, 4], dtype=dtype,
                       meta={"model": "toy"})
    return path, sentences, acts


def test_round_trip_and_protocol(tmp_path):
    path, sentences, acts = _random_store(tmp_path)
    with nh.open_store(path) as store:
        assert len(store) == store.num_sentences == 4
        assert store.num_words == 7 and store.width == 5 and store.layers == [0, 4]
        assert 4 in store and 1 not in store
        assert store.meta["model"] == "toy" and store.meta["complete"] is True
        for i, words in enumerate(sentences):
            assert store.words(i) == words
            np.testing.assert_allclose(store[i], acts[i], rtol=1e-6)
        np.testing.assert_allclose(store.sentence(2, layer=4), acts[2][:, 1], rtol=1e-6)
        flat = np.concatenate(acts)
        np.testing.assert_allclose(store.neuron(4, 3), flat[:, 1, 3], rtol=1e-6)
        assert store.vocab == ["a", "b", "é", "<script>", "&"]
        assert store.word_ids.tolist() == [0, 1, 0, 2, 3, 4, 1]
        chunks = list(store.iter_rows(0, chunk_mb=40 / 2**20))
        assert [s for s, _ in chunks] == [0, 2, 4, 6]
        with pytest.raises(StoreError, match=r"0\.\.3"):
            store.words(9)
        with pytest.raises(StoreError, match="0..4"):
            store.neuron(0, 5)


def test_float16_store_halves_bytes(tmp_path):
    rng = np.random.default_rng(0)
    sents = [["w"] * 400 for _ in range(10)]
    acts = [rng.normal(size=(400, 3, 64)) for _ in sents]
    a = write_store(tmp_path / "a.h5", sents, acts, dtype="float32")
    b = write_store(tmp_path / "b.h5", sents, acts, dtype="float16")
    assert b.stat().st_size < 0.55 * a.stat().st_size


def test_incomplete_store_is_refused_then_readable_on_request(tmp_path):
    w = StoreWriter.create(tmp_path / "s.h5", [["a", "b"]], layers=[0], width=3)
    w.write_rows(0, np.ones((2, 1, 3), np.float16))
    w.close()
    with pytest.raises(IncompleteStoreError, match="--resume"):
        nh.open_store(tmp_path / "s.h5")
    with nh.open_store(tmp_path / "s.h5", allow_incomplete=True) as store:
        assert store.sentence(0).tolist() == [[[1, 1, 1]], [[1, 1, 1]]]
    with h5py.File(tmp_path / "s.h5", "r") as f:
        assert not f.attrs["complete"]


def test_running_stats_merge_equals_direct():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(101, 4)) * 3 + 2
    s = RunningStats.empty((4,))
    for part in np.array_split(x, 7):
        s.update(part)
    np.testing.assert_allclose(s.mean, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(s.variance, x.var(0), rtol=1e-12)
    np.testing.assert_array_equal(s.max, x.max(0))


def test_write_store_validates(tmp_path):
    with pytest.raises(StoreError, match="2 words but 3 rows"):
        write_store(tmp_path / "x.h5", [["a", "b"]], [np.zeros((3, 1, 2))])
    path, _, _ = _random_store(tmp_path)
    with pytest.raises(OutputExistsError, match="exists"):
        write_store(path, [["a"]], [np.zeros((1, 1, 2))])


def test_write_at_scatters_a_batch_like_per_sentence_writes(tmp_path):
    from neuroheat.extract.dense import store_rows

    sentences = [["a"] * n for n in (3, 0, 2, 4, 1)]
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in sentences])])
    unit = [3, 0, 1, 4, 2]  # a batch in length order, as the planner sorts it
    starts = np.concatenate([[0], np.cumsum([len(sentences[s]) for s in unit])])
    rows = np.random.default_rng(2).normal(size=(int(starts[-1]), 2, 3)).astype(np.float32)
    dest = store_rows(unit, starts, offsets)
    assert dest.tolist() == [5, 6, 7, 8, 0, 1, 2, 9, 3, 4]
    scattered = StoreWriter.create(tmp_path / "a.h5", sentences, layers=[0, 1], width=3)
    one_by_one = StoreWriter.create(tmp_path / "b.h5", sentences, layers=[0, 1], width=3)
    for pos in range(2):
        scattered.write_at(pos, dest, rows[:, pos])
        for k, s in enumerate(unit):
            one_by_one.write(pos, int(offsets[s]), rows[starts[k]:starts[k + 1], pos])
    scattered.write_at(0, np.arange(2, 4), rows[:2, 1])  # a run of rows: one slice
    one_by_one.write(0, 2, rows[:2, 1])
    with pytest.raises(StoreError, match="3 rows to 2 row numbers"):
        scattered.write_at(0, np.arange(2), rows[:3, 0])
    for w in (scattered, one_by_one):
        w.finalize(RunningStats.empty((2, 3)))
    with h5py.File(tmp_path / "a.h5") as a, h5py.File(tmp_path / "b.h5") as b:
        for name in a["activations"]:
            np.testing.assert_array_equal(a["activations"][name][...], b["activations"][name][...])
