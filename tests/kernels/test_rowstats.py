"""The compiled row statistics agree with the float64 torch reductions they replace."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neuroheat import kernels
from neuroheat.kernels.rowstats import row_stats

pytestmark = pytest.mark.skipif(not kernels.enabled(), reason="numba kernels are off")


def _torch_stats(x: np.ndarray) -> tuple[np.ndarray, ...]:
    """The reductions of UnitRunner's torch path: float64 var_mean and aminmax."""
    wide = torch.from_numpy(x).double()
    var, mean = torch.var_mean(wide, dim=0, correction=0)
    lo, hi = torch.aminmax(wide, dim=0)
    return mean.numpy(), (var * x.shape[0]).numpy(), lo.numpy(), hi.numpy()


def _tricky(rng: np.random.Generator, n: int) -> np.ndarray:
    """[n, 3, 8] float32 rows: float16-rounded values, a large offset with a tiny spread,
    constant columns, signed zeros, subnormals, the float16 extremes."""
    x = rng.standard_normal((n, 3, 8)) * rng.choice([1e-3, 1.0, 300.0], size=(1, 3, 8))
    x[:, 0, 0] = 1e4 + rng.standard_normal(n) * 1e-2     # mean >> spread: cancellation
    x[:, 0, 1] = 7.25                                     # constant
    x[:, 0, 2] = rng.choice([0.0, -0.0], size=n)          # signed zeros
    x[:, 0, 3] = rng.choice([6e-8, -6e-8, 1e-40], size=n)  # float16 / float32 subnormals
    x[:, 0, 4] = rng.choice([65504.0, -65504.0], size=n)  # float16's extremes
    x[:, 1] = x[:, 1].astype(np.float16)                  # rounded as the stored values
    return x.astype(np.float32)


@pytest.mark.parametrize("n", [1, 2, 7, 300])
def test_row_stats_match_float64_torch(n):
    x = _tricky(np.random.default_rng(n), n)
    mean, m2, lo, hi, finite = row_stats(x)
    ref_mean, ref_m2, ref_lo, ref_hi = _torch_stats(x)
    assert finite and mean.shape == m2.shape == (3, 8)
    np.testing.assert_array_equal(lo, ref_lo)  # exact: float32 values are float64 values
    np.testing.assert_array_equal(hi, ref_hi)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-12, atol=1e-300)
    # M2 to the tolerance the stored statistics are tested to, measured at its scale
    scale = np.maximum(ref_m2, n * np.finfo(np.float64).eps * ref_mean**2)
    assert np.all(np.abs(m2 - ref_m2) <= 1e-9 * scale + 1e-300)
    assert np.all(m2 >= 0)
    np.testing.assert_array_equal(m2[0, 1], 0.0)  # a constant column has no spread


def test_row_stats_exact_on_small_integers():
    x = np.array([[1, -2], [3, 6], [5, 2]], np.float32)
    mean, m2, lo, hi, finite = row_stats(x)
    assert mean.tolist() == [3.0, 2.0] and m2.tolist() == [8.0, 32.0]
    assert lo.tolist() == [1.0, -2.0] and hi.tolist() == [5.0, 6.0] and finite


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_row_stats_report_a_value_that_is_not_finite(bad):
    x = np.ones((5, 4), np.float32)
    x[3, 2] = bad
    assert row_stats(x)[-1] is False
    x[3, 2] = 1.0
    assert row_stats(x)[-1] is True


def test_row_stats_need_a_row():
    with pytest.raises(ValueError, match="at least one row"):
        row_stats(np.zeros((0, 3), np.float32))
