"""The compiled ranking and word index give the numpy code's tables, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from neuroheat import kernels
from neuroheat.analysis.ranking import rank_block
from neuroheat.analysis.word_index import word_index
from neuroheat.kernels.ranking import column_kth
from neuroheat.store import write_store
from tests.helpers.stores import random_corpus

pytestmark = pytest.mark.skipif(not kernels.enabled(), reason="numba is not importable")


def table(seed: int, n_types: int = 300, width: int = 70) -> np.ndarray:
    """Means with ties (a coarse grid), an all-zero column and a one-type column."""
    rng = np.random.default_rng(seed)
    means = np.round(rng.gamma(1.5, 1.0, (n_types, width)) * 4) / 4
    means[rng.random(means.shape) < 0.3] = 0.0  # types absent from the block
    means[:, 3] = 0.0
    means[:, 5] = 0.0
    means[17, 5] = 2.0
    return means


def test_column_kth_is_numpys_partition():
    means = table(0)
    for k in (1, 2, 10, 299, 300):
        kth, nan = column_kth(means, k)
        ref = np.partition(means.T, means.shape[0] - k, axis=1)[:, means.shape[0] - k]
        assert not nan and np.array_equal(kth, ref)


@pytest.mark.parametrize("k", [None, 1, 5, 10, 299, 300, 1000])
@pytest.mark.parametrize("threshold", [0.0, 0.1, 0.5])
def test_rank_block_with_and_without_kernels(monkeypatch, k, threshold):
    for seed in range(3):
        means = table(seed)
        fast = rank_block(means, k, threshold)
        monkeypatch.setenv(kernels.ENV, "numpy")
        slow = rank_block(means, k, threshold)
        monkeypatch.setenv(kernels.ENV, "numba")
        assert np.array_equal(fast[0], slow[0])
        assert np.array_equal(fast[1], slow[1], equal_nan=True)


@pytest.mark.parametrize("block_mb", [256.0, 0.0005])  # 0.0005: two neurons per block
@pytest.mark.parametrize("k_neurons", [1, 3, 20])
def test_word_index_with_and_without_kernels(tmp_path, monkeypatch, k_neurons, block_mb):
    sents, acts = random_corpus(5, n_sentences=70, n_types=25, n_layers=3, width=10)
    acts = [np.round(a) for a in acts]  # ties between neurons and layers
    write_store(tmp_path / "a.h5", sents, acts)
    fast = word_index(tmp_path / "a.h5", k_words=4, k_neurons=k_neurons, block_mb=block_mb)
    monkeypatch.setenv(kernels.ENV, "numpy")
    slow = word_index(tmp_path / "a.h5", k_words=4, k_neurons=k_neurons, block_mb=block_mb)
    assert np.array_equal(fast[0].types, slow[0].types)
    for name in ("layer", "neuron", "score"):
        assert np.array_equal(getattr(fast[1], name), getattr(slow[1], name), equal_nan=True)


def test_finish_means_is_the_numpy_division_zeroing_and_maximum():
    from neuroheat.kernels.ranking import finish_means

    rng = np.random.default_rng(4)
    total = rng.gamma(2.0, 3.0, (200, 30))
    total[5, 7] = np.nan  # in a constant column: zeroed
    total[9, 4] = np.nan  # a NaN column: its maximum is NaN, as np.max
    counts = rng.integers(0, 9, 200).astype(np.float64)
    constant = np.zeros(30, bool)
    constant[[2, 7, 11]] = True
    ref = total.copy()
    np.divide(ref, np.maximum(counts, 1)[:, None], out=ref)
    ref[:, constant] = 0.0
    top = finish_means(total, counts, constant)
    assert np.array_equal(total, ref, equal_nan=True)
    assert np.array_equal(top, ref.max(axis=0), equal_nan=True)
    assert top[7] == 0.0 and np.isnan(top[4])
