"""Streamed probe data: columns, splits, balancing, standardisation, batches, errors."""

from __future__ import annotations

import numpy as np
import pytest

from neuroheat import open_store
from neuroheat.errors import InputError
from neuroheat.probing import Labels, ProbeData, select_columns, split_sentences
from neuroheat.store import write_store
from tests.helpers.stores import stored_values


def _corpus(seed: int = 0, n_sentences: int = 30, width: int = 6):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 8, n_sentences)
    sents = [[f"w{k}" for k in rng.integers(0, 10, n)] for n in lengths]
    acts = [(rng.standard_normal((n, 3, width)) * 2 + 1).astype(np.float32) for n in lengths]
    labs = [[f"c{k}" for k in rng.integers(0, 3, n)] for n in lengths]
    return sents, acts, labs


@pytest.fixture
def corpus(tmp_path):
    sents, acts, labs = _corpus()
    path = write_store(tmp_path / "acts.h5", sents, acts, dtype="float16")
    with open_store(path) as store:
        yield store, Labels.from_sentences(labs), stored_values(acts, "float16")


SELECTIONS = [({"layers": 1}, [(1, j) for j in range(6)]),
              ({"layers": "0,2"}, [(0, j) for j in range(6)] + [(2, j) for j in range(6)]),
              ({"neurons": [(2, 5), (0, 1), (2, 0)]}, [(2, 5), (0, 1), (2, 0)])]


@pytest.mark.parametrize("chunk_mb", [1e-5, 2e-4, 1e-3, 64.0])
@pytest.mark.parametrize("cache_mb", [0.0, 256.0])
@pytest.mark.parametrize(("sel", "cols"), SELECTIONS)
def test_streamed_equals_direct_read(corpus, chunk_mb, cache_mb, sel, cols):
    store, labels, values = corpus
    data = ProbeData(store, labels, test_sentences=(5, 12), chunk_mb=chunk_mb,
                     cache_mb=cache_mb, **sel)
    assert data.columns == cols
    direct = np.stack([values[:, store.layers.index(lay), j] for lay, j in cols], axis=1)
    rows = np.arange(store.num_words)
    test_rows = (rows >= store.offsets[5]) & (rows < store.offsets[12])
    for _ in range(2):  # second pass: from the cache when it fits
        for split, mask in (("train", ~test_rows), ("test", test_rows)):
            x, y = data.arrays(split)
            assert x.dtype == np.float32
            np.testing.assert_array_equal(x, direct[mask].astype(np.float32))
            np.testing.assert_array_equal(y, labels.ids[mask])
    if chunk_mb == 1e-5:  # one row per block: memory bounded by the chunk size
        assert data._step == 1 and max(len(x) for x, _ in data._raw_blocks(data.masks["train"])
                                       ) == 1


@pytest.mark.parametrize("chunk_mb", [1e-5, 3e-4, 64.0])
def test_batches_are_consecutive_rows(corpus, chunk_mb):
    store, labels, _ = corpus
    data = ProbeData(store, labels, layers=[0, 1], chunk_mb=chunk_mb, cache_mb=0)
    x, y = data.arrays("train")
    got = list(data.batches("train", 7))
    assert [len(b[0]) for b in got[:-1]] == [7] * (len(got) - 1)
    np.testing.assert_array_equal(np.concatenate([b[0] for b in got]), x)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in got]), y)


def test_excluded_rows_and_splits(corpus):
    store, labels, _ = corpus
    ids = labels.ids.copy()
    ids[::5] = -1
    masked = Labels(ids=ids, classes=labels.classes, offsets=labels.offsets)
    data = ProbeData(store, masked, layers=0, test_fraction=0.3, seed=4)
    assert not (data.masks["train"] & data.masks["test"]).any()
    assert not data.masks["train"][::5].any() and not data.masks["test"][::5].any()
    assert data.num_rows("train") + data.num_rows("test") == int((ids >= 0).sum())
    a = split_sentences(30, test_fraction=0.3, seed=4)
    assert a.sum() == 9 and np.array_equal(a, split_sentences(30, test_fraction=0.3, seed=4))
    assert not np.array_equal(a, split_sentences(30, test_fraction=0.3, seed=5))
    rows_test = np.repeat(a, np.diff(store.offsets))
    assert np.array_equal(data.masks["test"], rows_test & (ids >= 0))


def test_balance_undersamples_training_rows(corpus):
    store, labels, _ = corpus
    data = ProbeData(store, labels, layers=0, test_sentences=(0, 5), balance=True, seed=1)
    counts = np.bincount(labels.ids[data.masks["train"]], minlength=3)
    full = np.bincount(labels.ids[store.offsets[5]:], minlength=3)
    assert len(set(counts.tolist())) == 1 and counts[0] == full.min()
    again = ProbeData(store, labels, layers=0, test_sentences=(0, 5), balance=True, seed=1)
    assert np.array_equal(data.masks["train"], again.masks["train"])
    assert np.array_equal(data.masks["test"], again.masks["test"])  # test rows untouched


def test_standardize_uses_training_moments(corpus):
    store, labels, values = corpus
    data = ProbeData(store, labels, layers=2, test_sentences=(0, 10), standardize=True,
                     chunk_mb=1e-4)
    train = values[data.masks["train"], 2]
    np.testing.assert_allclose(data.mean, train.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(data.std, train.std(axis=0), rtol=1e-8)
    x, _ = data.arrays("train")
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(x.std(axis=0), 1, atol=1e-4)
    xt, _ = data.arrays("test")
    np.testing.assert_allclose(xt, (values[data.masks["test"], 2] - data.mean) / data.std,
                               rtol=1e-5, atol=1e-5)


def test_bad_input_is_a_clear_input_error(corpus, tmp_path):
    store, labels, _ = corpus
    with pytest.raises(InputError, match="layer 7 is not in this store"):
        ProbeData(store, labels, layers=7)
    with pytest.raises(InputError, match="layer 9 is not in this store"):
        select_columns(store, neurons=[(9, 0)])
    with pytest.raises(InputError, match="out of range"):
        select_columns(store, neurons=[(0, 6)])
    with pytest.raises(InputError, match="not both"):
        select_columns(store, layers=0, neurons=[(0, 1)])
    short = Labels.from_sentences([["a", "b"]] * 3)
    with pytest.raises(InputError, match="but the store has"):
        ProbeData(store, short)
    shifted = Labels(ids=labels.ids, classes=labels.classes,
                     offsets=np.concatenate([[0, 0], labels.offsets[2:]]))
    with pytest.raises(InputError, match="sentence lengths differ"):
        ProbeData(store, shifted)
    with pytest.raises(InputError, match="sentence-level"):
        ProbeData(store, Labels.from_sentences(["x"] * 30, sentence_level=True))
    with pytest.raises(InputError, match="not both"):
        ProbeData(store, labels, test_sentences=(0, 2), test_fraction=0.5)
    with pytest.raises(InputError, match="non-empty range"):
        ProbeData(store, labels, test_sentences=(3, 99))
    with pytest.raises(InputError, match="numeric labels"):
        ProbeData(store, labels, task="regression")
    with pytest.raises(InputError, match="unknown task"):
        ProbeData(store, labels, task="ranking")
