"""The compiled row gather adds the same float32 values, in the same order, as torch's
indexing and ``index_add_`` (the bits of every row, -0.0 and NaN included)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuroheat import kernels
from neuroheat.kernels.gather import add_rows

pytestmark = pytest.mark.skipif(not kernels.enabled(), reason="numba kernels are off")


def _torch_add(v, b, t, rows, buf, slot):
    out = torch.from_numpy(buf.copy())
    picked = torch.from_numpy(v)[torch.from_numpy(b), torch.from_numpy(t)]
    out[:, slot].index_add_(0, torch.from_numpy(rows), picked)
    return out.numpy()


@pytest.mark.parametrize("seed", range(4))
def test_add_rows_matches_index_add(seed):
    rng = np.random.default_rng(seed)
    v = (rng.standard_normal((3, 9, 16)) * 10.0 ** rng.integers(-8, 8, (3, 9, 16))).astype(
        np.float32)
    v[0, 0, :4] = [-0.0, np.nan, np.inf, -np.inf]
    v[1, 2, :2] = [65504.0, 1e-45]
    k = 25
    b, t = rng.integers(0, 3, k), rng.integers(0, 9, k)
    b[0], t[0] = 0, 0
    rows = rng.integers(0, 7, k)   # repeated rows: sums in index order
    for start in (np.zeros((7, 3, 16), np.float32),
                  rng.standard_normal((7, 3, 16)).astype(np.float32)):
        for slot in range(3):
            ref = _torch_add(v, b, t, rows, start, slot)
            got = start.copy()
            add_rows(v, b, t, rows, got, slot)
            np.testing.assert_array_equal(got.view(np.uint32), ref.view(np.uint32))


def test_add_rows_refuses_what_it_cannot_do():
    v, buf = np.zeros((1, 2, 4), np.float32), np.zeros((3, 2, 4), np.float32)
    ok = np.zeros(1, np.int64)
    with pytest.raises(ValueError, match="out of range"):
        add_rows(v, ok, np.array([2]), ok, buf, 0)
    with pytest.raises(ValueError, match="out of range"):
        add_rows(v, ok, ok, ok, buf, 2)
    with pytest.raises(ValueError, match="float32"):
        add_rows(v.astype(np.float64), ok, ok, ok, buf, 0)
    with pytest.raises(ValueError, match="contiguous"):
        add_rows(v, ok, ok, ok, buf[::-1], 0)
    with pytest.raises(ValueError, match="width"):
        add_rows(np.zeros((1, 2, 3), np.float32), ok, ok, ok, buf, 0)
