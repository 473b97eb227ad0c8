"""The compiled gather of (row, neuron) values equals numpy's, over chunks and shards."""

from __future__ import annotations

import numpy as np
import pytest

from neuroheat import kernels
from neuroheat.analysis.windows import gather_values
from neuroheat.store import open_store, write_store
from tests.helpers.stores import random_corpus, write_shards

pytestmark = pytest.mark.skipif(not kernels.enabled(), reason="numba is not importable")


@pytest.mark.parametrize("dtype", ["float16", "float32"])
@pytest.mark.parametrize("sharded", [False, True])
def test_gather_values_with_and_without_kernels(tmp_path, monkeypatch, dtype, sharded):
    sents, acts = random_corpus(2, n_sentences=50, n_layers=2, width=9)
    if sharded:
        src = write_shards(tmp_path, sents, acts, [20, 31], dtype=dtype)
    else:
        src = tmp_path / "a.h5"
        write_store(src, sents, acts, dtype=dtype)
    rng = np.random.default_rng(0)
    with open_store(src) as store:
        n = store.num_words
        rows = rng.integers(-1, n, 500)
        rows[:5] = [-1, 0, n - 1, n - 1, 0]
        neurons = rng.integers(0, 9, 500)
        fast = gather_values(store, 1, rows, neurons, chunk_mb=0.001)
        monkeypatch.setenv(kernels.ENV, "numpy")
        slow = gather_values(store, 1, rows, neurons, chunk_mb=0.001)
        ref = store.rows(1, 0, n).astype(np.float64)[np.maximum(rows, 0), neurons]
    assert np.array_equal(fast, slow, equal_nan=True)
    assert np.array_equal(fast[rows >= 0], ref[rows >= 0]) and np.isnan(fast[rows < 0]).all()
