"""The penalty path's machinery: one L-BFGS state carried across penalties and into the
refit (training.Fitter), the first penalty on the head of the path's rows
(ProbeData.head), and the shared column-major copy of the training rows."""

from __future__ import annotations

import numpy as np
import pytest

from neuroheat import open_store
from neuroheat.probing import Probe, ProbeData, Split
from neuroheat.probing import selection as selection_module
from neuroheat.probing.numpy_loss import transposed
from neuroheat.probing.training import Fitter, fit_lbfgs
from tests.helpers.stores import class_labels, write_planted_store


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Four classes shifting two neurons weakly (16 columns, a few thousand rows)."""
    path, labs, _ = write_planted_store(tmp_path_factory.mktemp("path") / "acts.h5", 5, 160,
                                        width=8, signal=[(1, 0), (1, 1)], shift=0.6,
                                        n_classes=4, lengths=(4, 12))
    with open_store(path) as store:
        yield store, class_labels(labs)


def _data(planted, **config):
    store, labels = planted
    return ProbeData(store, labels, layers=[0, 1], split=Split(test_fraction=0.2), seed=0,
                     **config)


def test_a_carried_state_goes_further_than_a_fresh_one(planted):
    data = _data(planted)
    carried = Fitter(data, 4, l1=1e-5)
    first = carried.fit(1e-2, 10)
    fresh = Fitter(data, 4, l1=1e-5, init=(first.weight, first.bias))
    before = carried.evaluations
    a, b = carried.fit(1e-3, 3), fresh.fit(1e-3, 3)
    # same start, same objective, the same budget of evaluations: the curvature history
    # makes the first steps full quasi-Newton ones (a fresh state's first is a short
    # gradient step whose line search eats the budget)
    assert a.losses[0] == pytest.approx(b.losses[0], rel=1e-9)
    assert carried.evaluations - before <= fresh.evaluations  # passes over the data
    assert a.iterations > b.iterations
    assert a.losses[-1] < b.losses[-1]


def test_a_new_penalty_at_the_same_point_needs_no_data_pass(planted):
    data = _data(planted)
    fitter = Fitter(data, 4, l1=1e-5)
    fitter.fit(1e-2, 5)
    passes = fitter.evaluations
    fitter.l2 = 1e-4
    loss, grad = fitter.objective(fitter.x)
    assert fitter.evaluations == passes  # the last data loss and gradient were reused
    check = Fitter(data, 4, l1=1e-5, init=fitter.probe(fitter.x))
    check.l2 = 1e-4
    loss2, grad2 = check.objective(check.x)
    assert loss == pytest.approx(loss2, rel=1e-6)
    np.testing.assert_allclose(grad, grad2, rtol=1e-5, atol=1e-9)


def test_fit_lbfgs_is_one_fitter_call(planted):
    data = _data(planted)
    a = fit_lbfgs(data, 4, l1=1e-5, l2=1e-3, max_iter=12)
    b = Fitter(data, 4, l1=1e-5).fit(1e-3, 12)
    np.testing.assert_array_equal(a.weight, b.weight)
    assert a.losses == b.losses and a.iterations == b.iterations


def test_head_is_the_first_training_rows_without_a_copy(planted):
    data = _data(planted)
    view = data.holdout()
    head = view.head(0.25)
    n = view.num_rows("train")
    assert head.num_rows("train") == round(0.25 * n)
    assert head.num_rows("test") == view.num_rows("test")
    (x_view, y_view), (x_head, y_head) = view.arrays("train"), head.arrays("train")
    np.testing.assert_array_equal(x_head, x_view[:len(x_head)])
    np.testing.assert_array_equal(y_head, y_view[:len(y_head)])
    assert np.shares_memory(x_head, x_view)
    rows = np.flatnonzero(view.masks["train"])[:len(x_head)]
    assert np.flatnonzero(head.masks["train"]).tolist() == rows.tolist()
    # streamed (nothing cached): the same rows
    streamed = _data(planted, cache_mb=0).holdout().head(0.25)
    np.testing.assert_array_equal(streamed.arrays("train")[0], x_head)


def test_transposed_copies_in_order():
    x = np.arange(300, dtype=np.float32).reshape(100, 3)
    np.testing.assert_array_equal(transposed(x, rows=7), x.T)
    order = np.random.default_rng(0).permutation(100)
    out = transposed(x, order, rows=16)
    assert out.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(out, x[order].T)


def test_path_steps_report_their_rows_and_memory_equals_streaming(planted):
    store, labels = planted
    fit = {"layers": [0, 1], "test_fraction": 0.2}
    cached = Probe(seed=0).fit(store, labels, **fit)
    streamed = Probe(seed=0, cache_mb=0).fit(store, labels, **fit)
    path = cached.selected["path"]
    view = _data(planted).holdout()
    assert path[0]["rows"] == round(selection_module.FIRST_FRACTION
                                    * view.num_rows("train"))
    assert all(step["rows"] == view.num_rows("train") for step in path[1:])
    assert path[0]["iterations"] <= selection_module.FIRST_ITERS
    assert all(s["iterations"] <= selection_module.PATH_ITERS for s in path[1:])
    # the shared column-major copy (path rows first) sums the same gradient as the streamed
    # blocks in corpus order: the same selection, the same probe up to rounding
    assert streamed.selected["l2"] == cached.selected["l2"]
    assert [s["rows"] for s in streamed.selected["path"]] == [s["rows"] for s in path]
    np.testing.assert_allclose(streamed.weights, cached.weights, rtol=1e-3, atol=1e-4)
    assert streamed.accuracy == pytest.approx(cached.accuracy, abs=1e-3)
