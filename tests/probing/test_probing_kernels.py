"""The probe's compiled row gathering (neuroheat.kernels.probe_rows) against its numpy code:
the same bits for every float16 pattern, float32 / float64 blocks, any row and column
order; a whole default probe is bit for bit the same with NEUROHEAT_KERNELS=numpy; and the
default probe reads its training rows once, column-major."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from neuroheat import kernels, open_store
from neuroheat.kernels import probe_rows
from neuroheat.probing import Probe, ProbeData
from tests.helpers.stores import class_labels, write_planted_store

needs_numba = pytest.mark.skipif(not kernels.enabled(), reason="numba kernels are off")


def _tricky_half(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """Every float16 bit pattern (NaNs, infinities, -0.0, subnormals) among random values."""
    every = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16)
    flat = np.concatenate([every, rng.standard_normal(rows * cols).astype(np.float16)])
    return rng.permutation(flat)[:rows * cols].reshape(rows, cols)


def _both(monkeypatch, fn):
    """``fn()`` with the kernels, then with the numpy code."""
    monkeypatch.delenv(kernels.ENV, raising=False)
    got = fn()
    monkeypatch.setenv(kernels.ENV, "numpy")
    ref = fn()
    monkeypatch.delenv(kernels.ENV)
    return got, ref


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.uint32)


def test_the_half_table_is_numpys_conversion():
    every = np.arange(65536, dtype=np.uint32).astype(np.uint16)
    ref = every.view(np.float16).astype(np.float32)
    np.testing.assert_array_equal(_bits(probe_rows.half_table()), _bits(ref))


@needs_numba
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # float64 -> float32 overflow, on purpose
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_gathers_agree_bit_for_bit(monkeypatch, dtype):
    rng = np.random.default_rng(5)
    block = _tricky_half(rng, 1100, 70).astype(dtype)
    if dtype is not np.float16:
        block[rng.random(block.shape) < 0.01] = 1e300 if dtype is np.float64 else np.inf
    keep = np.sort(rng.choice(len(block), 700, replace=False))
    keep[:50] = rng.permutation(keep[:50])  # not only sorted rows
    for src, dst in ((None, None), (rng.permutation(70)[:33], rng.permutation(40)[:33])):
        width = 70 if dst is None else 40

        def rows(src=src, dst=dst, width=width):
            out = np.full((710, width), -1.0, np.float32)
            probe_rows.gather_rows(block, keep, out, 10, src=src, dst=dst, use_kernel=True)
            return out

        def cols(src=src, dst=dst, width=width):
            out = np.full((width, 703), -1.0, np.float32)
            probe_rows.gather_columns(block, keep, out, 3, src=src, dst=dst)
            return out

        got, ref = _both(monkeypatch, rows)
        np.testing.assert_array_equal(_bits(got), _bits(ref))
        # the column-major copy (numpy) is the transposed rows
        ref_cols = np.full((width, 703), -1.0, np.float32)
        ref_cols[:, 3:] = ref[10:].T
        np.testing.assert_array_equal(_bits(cols()), _bits(ref_cols))
    want = block[keep].astype(np.float32)
    got = np.zeros((len(keep), 70), np.float32)
    probe_rows.gather_rows(block, keep, got, 0, use_kernel=True)
    np.testing.assert_array_equal(_bits(got), _bits(want))


def test_kernels_run_where_they_pay(monkeypatch):
    """A small read runs the numpy code unless numba is imported already; a large one, or
    any read once numba is imported, runs the kernels; NEUROHEAT_KERNELS=numpy: never."""
    assert probe_rows.compiled(probe_rows.MIN_VALUES) == kernels.enabled()
    monkeypatch.delitem(sys.modules, "numba", raising=False)
    assert not probe_rows.compiled(1000)
    monkeypatch.setenv(kernels.ENV, "numpy")
    assert not probe_rows.compiled(probe_rows.MIN_VALUES)


def test_bad_rows_are_refused():
    out = np.zeros((2, 2), np.float32)
    with pytest.raises(ValueError, match="row indices"):
        probe_rows.gather_rows(np.zeros((3, 2)), np.array([0, 3]), out, 0)
    with pytest.raises(ValueError, match="float32"):
        probe_rows.gather_columns(np.zeros((3, 2)), np.array([0]), out.astype(np.float64), 0)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    path, labs, _ = write_planted_store(tmp_path_factory.mktemp("k") / "acts.h5", 5, 120,
                                        width=8, signal=[(1, 0), (2, 3)], shift=0.7,
                                        n_classes=3, lengths=(3, 11), n_layers=3)
    with open_store(path) as store:
        yield store, class_labels(labs)


@needs_numba
def test_probe_data_and_the_default_probe_are_the_same(monkeypatch, planted):
    store, labels = planted
    monkeypatch.setattr(probe_rows, "MIN_VALUES", 0)  # the kernels for every read
    fit = {"test_fraction": 0.2}

    def data():
        d = ProbeData(store, labels, layers="1,2", neurons=None, **fit)
        view = d.holdout()
        return [d.arrays(s) for s in ("train", "test")] + [view.arrays("test")]

    got, ref = _both(monkeypatch, data)
    for (xg, yg), (xr, yr) in zip(got, ref, strict=True):
        np.testing.assert_array_equal(_bits(xg), _bits(xr))
        np.testing.assert_array_equal(yg, yr)
    # and the same as the rows read the general way (streamed blocks, no cache)
    streamed = ProbeData(store, labels, layers="1,2", cache_mb=0, **fit)
    np.testing.assert_array_equal(got[0][0], streamed.arrays("train")[0])

    def probe():
        return Probe(seed=0).fit(store, labels, layers=[0, 2], **fit)

    a, b = _both(monkeypatch, probe)
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.bias, b.bias)
    assert a.selected == b.selected and a.accuracy == b.accuracy and a.losses == b.losses


def test_training_columns_read_once_and_scored_as_rows(planted):
    """The default probe on in-memory data reads its training rows once, column-major
    (path rows, then development rows), never as a row-major copy; the scores from that
    copy are the row-major scores."""
    from neuroheat.probing.rows import columns_of

    store, labels = planted
    data = ProbeData(store, labels, layers=[0, 2], test_fraction=0.2)
    probe = Probe(seed=0).fit(data)
    assert "train" not in data._cache and "test" in data._cache
    again = Probe.from_dict(probe.to_dict()).score(data)  # row-major: reads the train rows
    assert again.accuracy == probe.accuracy and again.per_class == probe.per_class
    # the column copy equals the cached rows, from the store or from the cache
    view = data.holdout()
    parts = [np.flatnonzero(view.masks["train"]), np.flatnonzero(view.masks["test"])]
    fresh = ProbeData(store, labels, layers=[0, 2], test_fraction=0.2)
    xt, yt = columns_of(fresh, parts)
    assert "train" not in fresh._cache
    x, y = data.arrays("train")
    pos = np.searchsorted(np.flatnonzero(data.masks["train"]), np.concatenate(parts))
    np.testing.assert_array_equal(xt, x[pos].T)
    np.testing.assert_array_equal(yt, y[pos])
    xt2, _ = columns_of(data, parts)  # now from the cached rows
    np.testing.assert_array_equal(xt2, xt)
    std = ProbeData(store, labels, layers=[0, 2], test_fraction=0.2, standardize=True)
    np.testing.assert_array_equal(columns_of(std, parts)[0], std.arrays("train")[0][pos].T)


def test_a_small_probe_does_not_import_numba(tmp_path):
    """Importing numba costs a fresh process more than the kernels save on a small probe."""
    import subprocess

    code = (
        "import sys\n"
        "from neuroheat import open_store\n"
        "from neuroheat.probing import Probe\n"
        "from tests.helpers.stores import class_labels, write_planted_store\n"
        f"path, labs, _ = write_planted_store({str(tmp_path / 'a.h5')!r}, 1, 60, width=4)\n"
        "with open_store(path) as store:\n"
        "    Probe(seed=0).fit(store, class_labels(labs), test_fraction=0.2)\n"
        "assert 'numba' not in sys.modules, 'numba was imported'\n")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(root), os.environ.get("PYTHONPATH", "")])}
    env.pop(kernels.ENV, None)
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
