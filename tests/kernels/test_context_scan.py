"""The compiled context scan returns the numpy scan's arrays, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from neuroheat import kernels
from neuroheat.analysis.all_contexts import top_contexts_all
from neuroheat.store import write_store
from tests.helpers.stores import random_corpus, write_shards

pytestmark = pytest.mark.skipif(not kernels.enabled(), reason="numba is not importable")


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """Stores with many ties (values on a grid), -0.0 beside 0.0, a constant neuron and a
    neuron with one outlier; float16 and float32; one file and three shards."""
    d = tmp_path_factory.mktemp("scan")
    sents, acts = random_corpus(7, n_sentences=60, n_types=20, n_layers=2, width=12)
    acts = [np.round(a * 3) / 3 for a in acts]
    acts[0][0, 0, 0], acts[1][0, 0, 0] = -0.0, 0.0
    for a in acts:
        a[:, 1, 5] = 0.25  # constant neuron
    acts[3][1, 0, 7] = 40.0  # one outlier: the histogram's other bins are empty
    rng = np.random.default_rng(3)
    for a in acts:  # far from 0 against its range: float32 estimates can't be trusted
        a[:, 0, 9] = 1000.0 + np.round(rng.standard_normal(len(a)) * 8) / 4
        a[:, 1, 10] = rng.standard_normal(len(a)) * 1e4  # a wide range
    out = {}
    for dtype in ("float16", "float32"):
        write_store(d / f"{dtype}.h5", sents, acts, dtype=dtype)
        shard_dir = d / dtype
        shard_dir.mkdir()
        out[dtype] = (d / f"{dtype}.h5", write_shards(shard_dir, sents, acts, [13, 40],
                                                      dtype=dtype))
    return out


def same(a, b):
    for la in a.layers:
        x, y = a.layer(la), b.layer(la)
        for field in ("top_rows", "top_values", "bottom_rows", "bottom_values", "histogram",
                      "hist_lo", "hist_hi", "band_edges", "sample_rows", "sample_values"):
            u, v = getattr(x, field), getattr(y, field)
            assert (u is None) == (v is None), field
            if u is not None:
                assert u.shape == v.shape and u.dtype == v.dtype, field
                assert np.array_equal(u, v, equal_nan=True), (la, field)


@pytest.mark.parametrize("dtype", ["float16", "float32"])
@pytest.mark.parametrize("args", [
    {"k": 5},
    {"k": 500, "bottom": False, "bins": 0},
    {"k": 3, "bins": 16, "bands": 4, "samples": 3},
    {"k": 2, "bins": 15, "bands": 4, "samples": 2},  # bands not made of whole bins
    {"k": 4, "quantiles": "rank", "samples": 3},
    {"k": 4, "quantiles": "count", "bands": 5, "samples": 2, "seed": 3},
    {"k": 2, "quantiles": "count", "bands": 4, "samples": 6, "bins": 0},  # fine bins alone
    {"k": 3, "quantiles": "rank", "samples": 2, "bins": 7},
    {"k": 1, "bins": 0, "samples": 0},
])
@pytest.mark.parametrize("which", [0, 1])
def test_compiled_scan_equals_numpy_scan(stores, monkeypatch, dtype, args, which):
    src = stores[dtype][which]
    fast = top_contexts_all(src, chunk_mb=0.002, **args)
    monkeypatch.setenv(kernels.ENV, "numpy")
    slow = top_contexts_all(src, chunk_mb=0.002, **args)
    same(fast, slow)
