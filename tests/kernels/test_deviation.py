"""The compiled top-words pass equals the numpy code bit for bit (same sums, same order)."""

from __future__ import annotations

import numpy as np
import pytest

from neuroheat import kernels
from neuroheat.analysis import top_words_all
from neuroheat.analysis.scores import _add_segments
from neuroheat.kernels.deviation import add_deviations
from neuroheat.store import write_store
from tests.helpers.stores import random_corpus

pytestmark = pytest.mark.skipif(not kernels.enabled(), reason="numba is not importable")


def tricky(rng, shape, dtype):
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    flat = x.reshape(-1)
    idx = rng.choice(flat.size, 40, replace=False)
    flat[idx[:10]] = -0.0
    flat[idx[10:20]] = np.finfo(dtype).tiny / 4  # subnormals
    flat[idx[20:25]] = np.inf
    flat[idx[25:30]] = -np.inf
    flat[idx[30:35]] = np.nan
    flat[idx[35:]] = np.finfo(dtype).max
    return x


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_add_deviations_equals_the_numpy_segment_sums(dtype):
    rng = np.random.default_rng(1)
    x = tricky(rng, (3000, 50), dtype)
    ids = rng.integers(0, 70, len(x))
    mu = rng.standard_normal(30)
    S = np.full((70, 30), 0.25)
    add_deviations(S, ids, x, 11, mu)
    ref = np.full((70, 30), 0.25)
    d = np.ascontiguousarray(np.abs(x[:, 11:41].astype(np.float64) - mu))
    _add_segments(ref, ids, d, "inplace")
    assert np.array_equal(S.view(np.uint64), ref.view(np.uint64))


def test_float16_bits_widen_exactly():
    x = np.arange(2**16, dtype=np.uint16).view(np.float16).reshape(-1, 1)
    S = np.zeros((len(x), 1))
    add_deviations(S, np.arange(len(x)), x, 0, np.zeros(1))
    ref = np.abs(x.astype(np.float64))
    assert np.array_equal(S, ref, equal_nan=True)


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_top_words_all_is_the_same_with_and_without_kernels(tmp_path, monkeypatch, dtype):
    sents, acts = random_corpus(3, n_sentences=80, n_types=30, n_layers=2, width=24)
    path = tmp_path / "acts.h5"
    write_store(path, sents, acts, dtype=dtype)
    fast = top_words_all(path, k=None, min_threshold=0.0, chunk_mb=0.01)
    monkeypatch.setenv(kernels.ENV, "numpy")
    slow = top_words_all(path, k=None, min_threshold=0.0, chunk_mb=0.01)
    assert np.array_equal(fast.types, slow.types)
    assert np.array_equal(fast.scores, slow.scores, equal_nan=True)


def test_small_work_runs_numpy_until_numba_is_imported(monkeypatch):
    """Kernels pay for numba's import only on large work (or once it is imported)."""
    import sys

    monkeypatch.delenv(kernels.ENV)
    assert kernels.enabled(kernels.MIN_VALUES) and kernels.enabled(None)
    assert kernels.enabled(10) == ("numba" in sys.modules)
    monkeypatch.setenv(kernels.ENV, "numba")
    assert kernels.enabled(10)
    monkeypatch.setenv(kernels.ENV, "numpy")
    assert not kernels.enabled(None) and not kernels.prepare(2**40)
