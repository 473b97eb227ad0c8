"""Weight rankings: NeuroX's fixtures, and NeuroX's definitions on random weights."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from neuroheat.errors import InputError
from neuroheat.probing import (
    bottom_neurons,
    entry_mass,
    neuron_ordering,
    order_by_score,
    ordering_cutoffs,
    top_neurons,
    top_neurons_hard_threshold,
)


def _sets(per_class):
    return {c: set(v.tolist()) for c, v in per_class.items()}


# -- NeuroX's own fixtures ------------------------------------------------------------------
def test_top_neurons_fixture():
    union, per = top_neurons(np.array([[5, 1, 1], [1, 10, 1]]), 0.5)
    assert _sets(per) == {0: {0}, 1: {1}}
    assert union.tolist() == [0, 1]


def test_neuron_ordering_fixture():
    assert neuron_ordering([[4, 1, 5], [1, 1, 10]]).tolist() == [2, 0, 1]


def test_bottom_neurons_fixture():
    union, per = bottom_neurons([[5, 4, 1], [10, 1, 1]], 0.1)
    assert _sets(per) == {0: {2}, 1: {1, 2}}
    assert union.tolist() == [1, 2]


def test_hard_threshold_fixture():
    union, per = top_neurons_hard_threshold([[5, 1, 2, 1], [1, 10, 1, 6]], 2)
    assert _sets(per) == {0: {0}, 1: {1, 3}}
    assert union.tolist() == [0, 1, 3]


# -- NeuroX's definitions, restated as a plain loop ------------------------------------------
def _reference_prefix(row, order, p):
    total, cum = row.sum(), 0.0
    for k, j in enumerate(order):
        cum += row[j]
        if cum >= total * p:
            return set(order[:k + 1])
    return set(order)


def _reference_top(w, p):
    w = np.abs(w)
    per = [_reference_prefix(r, sorted(range(len(r)), key=lambda j, r=r: -r[j]), p) for r in w]
    return set().union(*per), per


def _reference_ordering_blocks(w, stride):
    seen, blocks = set(), []
    for s in range(stride + 1):
        new = _reference_top(w, s / stride)[0] - seen
        blocks.append(new)
        seen |= new
    return blocks


@pytest.mark.parametrize("seed", range(5))
def test_top_and_bottom_match_neurox_definition(seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((4, 30))
    for p in (0.0, 0.05, 0.3, 0.5, 0.9, 1.0):
        union, per = top_neurons(w, p)
        ref_union, ref_per = _reference_top(w, p)
        assert set(union.tolist()) == ref_union
        assert [set(v.tolist()) for v in per.values()] == ref_per
        assert union.tolist() == sorted(union.tolist())
        _, bper = bottom_neurons(w, p)
        for row, got in zip(np.abs(w), bper.values(), strict=True):
            assert set(got.tolist()) == _reference_prefix(row, list(np.argsort(row)), p)


@pytest.mark.parametrize("seed", range(5))
def test_ordering_is_neurox_blocks_in_order(seed):
    """Each of NeuroX's per-step blocks is a contiguous run of our ordering, in step order,
    and the cutoffs agree."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((3, 40))
    order = neuron_ordering(w).tolist()
    assert sorted(order) == list(range(40))
    blocks = _reference_ordering_blocks(w, 100)
    pos = 0
    for block in blocks:
        assert set(order[pos:pos + len(block)]) == block
        pos += len(block)
    assert ordering_cutoffs(w, 100) == np.cumsum([len(b) for b in blocks]).tolist()


def test_ordering_ties_by_index_and_zero_weights_last():
    w = np.array([[0.0, 2.0, 2.0, 0.0, 1.0]])
    assert neuron_ordering(w).tolist() == [1, 2, 4, 0, 3]
    assert np.isinf(entry_mass(w)[[0, 3]]).all()


def test_ordering_equals_a_hand_computed_neurox_ordering():
    """NeuroX's ``get_neuron_ordering`` (``neurox/interpretation/linear_probe.py``), worked by
    hand: at each percentage p = 0, 0.01, ..., 1 every class selects its neurons in
    descending |w| until their mass reaches p of the row's mass, and the new neurons of each
    step are appended.

    class 0, |w| = [3.5, 0, 6, 0, 0.5] (mass 10): descending 2, 0, 4 with cumulative mass
    6, 9.5, 10 -> neuron 2 from p = 0, neuron 0 once p > 0.6, neuron 4 once p > 0.95.
    class 1, |w| = [0.5, 0, 0, 1, 1.5] (mass 3): descending 4, 3, 0 with cumulative mass
    1.5, 2.5, 3 -> neuron 4 from p = 0, neuron 3 once p > 0.5, neuron 0 once p > 5/6.
    Steps: p = 0 adds {2, 4}; p = 0.51 adds {3}; p = 0.61 adds {0}; neuron 1 (zero in both
    rows) never enters — NeuroX leaves it out, neuroheat puts it last. Within the first
    block (both entering at p = 0) neuroheat breaks the tie by index."""
    w = np.array([[3.5, 0.0, -6.0, 0.0, 0.5],
                  [0.5, 0.0, 0.0, -1.0, 1.5]])
    assert neuron_ordering(w).tolist() == [2, 4, 3, 0, 1]
    assert ordering_cutoffs(w, 100) == [2] * 51 + [3] * 10 + [4] * 40
    np.testing.assert_allclose(entry_mass(w), [0.6, np.inf, 0.0, 0.5, 0.0])


def test_ties_go_to_lower_index():
    union, per = top_neurons([[1.0, 3.0, 3.0, 1.0]], 0.0)
    assert per[0].tolist() == [1]
    _, per = bottom_neurons([[1.0, 3.0, 3.0, 1.0]], 0.0)
    assert per[0].tolist() == [0]


def test_class_names_and_weights_attribute():
    class Probe:
        weights = np.array([[5, 1, 1], [1, 10, 1]])
        classes = ["NN", "VB"]

    union, per = top_neurons(Probe(), 0.5)
    assert list(per) == ["NN", "VB"] and union.tolist() == [0, 1]
    _, per = top_neurons(Probe.weights, 0.5, classes=["a", "b"])
    assert list(per) == ["a", "b"]
    with pytest.raises(InputError, match="2 weight rows"):
        top_neurons(Probe.weights, 0.5, classes=["a"])


def test_signed_weights_use_absolute_values():
    union, _ = top_neurons([[-5, 1, 1], [1, -10, 1]], 0.5)
    assert union.tolist() == [0, 1]


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_bad_percentage(bad):
    with pytest.raises(InputError, match="between 0 and 1"):
        top_neurons([[1, 2]], bad)


def test_bad_inputs():
    with pytest.raises(InputError, match="fraction must be > 0"):
        top_neurons_hard_threshold([[1, 2]], 0)
    with pytest.raises(InputError, match="classes, neurons"):
        top_neurons(np.zeros((2, 2, 2)), 0.5)
    with pytest.raises(InputError, match="NaN"):
        neuron_ordering([[1.0, np.nan]])


def test_order_by_score():
    assert order_by_score([0.5, 2.0, 0.5, np.nan, 2.0]).tolist() == [1, 4, 0, 2, 3]


def test_import_is_light():
    code = ("import sys, neuroheat.probing as p; p.top_neurons; p.read_labels; p.probeless; "
            "assert 'torch' not in sys.modules and 'sklearn' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
