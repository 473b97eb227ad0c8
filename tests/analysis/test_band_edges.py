"""Rank / count band edges: the vectorised search equals numpy's searchsorted row by row."""

from __future__ import annotations

import numpy as np

from neuroheat.analysis.distributions import FINE_BINS, _count_at_most, band_edges


def test_count_at_most_is_searchsorted_right():
    rng = np.random.default_rng(0)
    cum = np.cumsum(rng.integers(0, 3, (300, 64)), axis=1).astype(np.float64)  # with ties
    target = rng.uniform(-1, cum[:, -1] + 1)
    target[:50] = cum[np.arange(50), rng.integers(0, 64, 50)]  # exact hits on (tied) entries
    ref = [np.searchsorted(c, t, side="right") for c, t in zip(cum, target, strict=True)]
    assert _count_at_most(cum, target, block=7).tolist() == ref


def test_rank_edges_split_the_rows_as_asked():
    """Below the q edge lie q·n rows, up to the rows of the one fine bin that holds the edge
    (in value, an edge may sit anywhere in a gap of a sparse tail: any such value splits the
    rows the same way)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 20000))
    lo, hi = x.min(axis=1), x.max(axis=1)
    fine = np.stack([np.histogram(r, FINE_BINS, range=(a, b))[0]
                     for r, a, b in zip(x, lo, hi, strict=True)])
    edges = band_edges("rank", lo, hi, 4, fine)
    step = (hi - lo) / FINE_BINS
    for j, q in enumerate((0.5, 0.9, 0.99, 0.999)):
        below = (x < edges[:, j:j + 1]).sum(axis=1)
        holder = np.minimum(((edges[:, j] - lo) / step).astype(int), FINE_BINS - 1)
        assert np.all(np.abs(below - q * x.shape[1]) <= fine[np.arange(5), holder]), q
    assert np.array_equal(edges[:, -1], hi)
    counts = band_edges("count", lo, hi, 10, fine)
    assert np.all(np.diff(counts, axis=1) >= 0) and np.array_equal(counts[:, 0], lo)


def test_rank_edges_without_the_fine_histogram_are_refused():
    import pytest

    from neuroheat.errors import InputError

    with pytest.raises(InputError, match="needs fine="):
        band_edges("count", np.array([0.0]), np.array([1.0]), 4)
