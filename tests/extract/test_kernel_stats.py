"""Extraction with the compiled statistics kernel (CPU) stores the same rows, bit for bit, and
the same statistics, to rounding, as the torch path (``NEUROHEAT_KERNELS=numpy``)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

import neuroheat as nh
from neuroheat import kernels

pytestmark = pytest.mark.skipif(not kernels.enabled(), reason="numba kernels are off")

CORPUS = [
    "The quick brown fox jumps over the lazy dog .",
    "Vinken joined the unbelievable interpretability board on Nov. 29 .",
    "cats run",
    "Numbers like 1234 and 56.78 & symbols < > appear .",
] * 5


def _contents(path):
    with h5py.File(path, "r") as f:
        acts = {k: f["activations"][k][...] for k in f["activations"]}
        stats = {k: f["stats"][k][...] for k in f["stats"]}
    return acts, stats


@pytest.mark.parametrize(("dtype", "aggregation"), [("float16", "last"), ("float32", "average"),
                                                    ("float16", "none")])
def test_kernel_and_torch_statistics_agree(tiny_bert, tmp_path, monkeypatch, dtype, aggregation):
    def run(name):
        return nh.extract_activations(tiny_bert, CORPUS, tmp_path / name, dtype=dtype,
                                      aggregation=aggregation, batch_tokens=48, quiet=True)

    monkeypatch.setenv(kernels.ENV, "numba")  # the kernels whatever the corpus size
    got = run("kernel.h5")
    monkeypatch.setenv(kernels.ENV, "numpy")
    ref = run("torch.h5")
    (acts, stats), (ref_acts, ref_stats) = _contents(got), _contents(ref)
    assert acts.keys() == ref_acts.keys() and stats.keys() == ref_stats.keys()
    for key in acts:  # the stored rows: bit for bit
        assert acts[key].dtype == np.dtype(dtype)
        np.testing.assert_array_equal(acts[key].view(np.uint8), ref_acts[key].view(np.uint8))
    for key in ("count", "min", "max"):
        np.testing.assert_array_equal(stats[key], ref_stats[key], err_msg=key)
    np.testing.assert_allclose(stats["mean"], ref_stats["mean"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(stats["M2"], ref_stats["M2"], rtol=1e-11, atol=1e-12)
