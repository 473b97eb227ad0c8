"""Ablation (top / random / bottom k%) and layer-wise probing on planted-signal stores."""

from __future__ import annotations

import numpy as np
import pytest

from neuroheat import open_store
from neuroheat.errors import InputError
from neuroheat.probing.ablations import (
    ablation,
    complete_order,
    fraction_key,
    layerwise,
    subset_sizes,
)
from neuroheat.probing.methods import METHODS, available, get_method, rank
from tests.helpers.stores import class_labels, write_planted_store

WIDTH = 16
SIGNAL = list(range(8))  # layer-1 neurons 0..7 carry the label, weakly each
COLUMNS = [WIDTH + j for j in SIGNAL]  # their columns with layers [0, 1]
FRACTIONS = (0.125, 0.25, 0.5, 1.0)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    path, labs, _ = write_planted_store(
        tmp_path_factory.mktemp("abl") / "acts.h5", 0, 250, width=WIDTH,
        signal=[(1, j) for j in SIGNAL], shift=1.0, lengths=(4, 13))
    with open_store(path) as store:
        yield store, class_labels(labs)


def _mean(row: dict, keys: list[str]) -> float:
    return float(np.mean([row[k] for k in keys]))


@pytest.mark.parametrize("method", ["probeless", "weights"])
def test_rankings_put_the_signal_first(graded, method):
    store, labels = graded
    ranking = rank(method, store, labels, [0, 1], test_fraction=0.2, seed=0)
    assert sorted(ranking.order[:8].tolist()) == COLUMNS
    assert ranking.pairs(1)[0][0] == 1


@pytest.mark.parametrize("mode", ["retrain", "zero"])
def test_top_beats_random_beats_bottom(graded, mode):
    store, labels = graded
    order = rank("probeless", store, labels, [0, 1], test_fraction=0.2).order
    table = ablation(store, labels, order, layers=[0, 1], fractions=FRACTIONS, mode=mode,
                     test_fraction=0.2, seed=0)
    assert set(table) == {"top", "random", "bottom"}
    keys = [fraction_key(f) for f in FRACTIONS]
    assert all(set(row) == set(keys) for row in table.values())
    partial = keys[:-1]
    top, rnd, bot = (_mean(table[s], partial) for s in ("top", "random", "bottom"))
    assert top > rnd + 0.05 > bot + 0.1, table
    assert table["top"]["0.25"] > 0.85 and table["bottom"]["0.25"] < 0.62, table
    assert table["top"]["1"] == table["random"]["1"] == table["bottom"]["1"]


def test_ablation_is_seeded(graded):
    store, labels = graded
    order = np.arange(2 * WIDTH)
    a = ablation(store, labels, order, layers=[0, 1], fractions=(0.1, 0.5), test_fraction=0.2,
                 seed=3)
    b = ablation(store, labels, order, layers=[0, 1], fractions=(0.1, 0.5), test_fraction=0.2,
                 seed=3)
    assert a == b


def test_layerwise(graded):
    store, labels = graded
    table = layerwise(store, labels, [0, 1], test_fraction=0.2)
    assert set(table) == {0, 1} and set(table[0]) == {"train", "test"}
    assert table[1]["test"] > 0.85 and table[0]["test"] < 0.62


def test_helpers():
    assert fraction_key(0.1) == "0.1" and fraction_key(1.0) == "1"
    assert subset_sizes(16, [0.01, 0.5, 1.0]) == {"0.01": 1, "0.5": 8, "1": 16}
    assert complete_order([3, 1], 4).tolist() == [3, 1, 0, 2]
    with pytest.raises(InputError, match="twice"):
        complete_order([1, 1], 4)
    with pytest.raises(InputError, match="column 4"):
        complete_order([4], 4)


def test_bad_input(graded):
    store, labels = graded
    with pytest.raises(InputError, match="test"):
        ablation(store, labels, [0], layers=[0])
    with pytest.raises(InputError, match="mode"):
        ablation(store, labels, [0], layers=[0], mode="drop", test_fraction=0.2)
    with pytest.raises(InputError, match=r"\(0, 1\]"):
        ablation(store, labels, [0], layers=[0], fractions=[0.0], test_fraction=0.2)


def test_method_registry():
    assert set(METHODS) == {"weights", "probeless", "gaussian", "iou"}
    with pytest.raises(InputError, match="unknown ranking method"):
        get_method("nope")
    for name in ("gaussian", "iou"):
        if not available(name):
            with pytest.raises(InputError, match=f"neuroheat.probing.{name}"):
                get_method(name)


@pytest.mark.parametrize("method", ["gaussian", "iou"])
def test_separate_methods_through_the_registry(graded, method):
    if not available(method):
        pytest.skip(f"neuroheat.probing.{method} is not there yet")
    store, labels = graded
    ranking = rank(method, store, labels, [0, 1], test_fraction=0.2, seed=0)
    assert ranking.order[0] in COLUMNS and len(ranking.order) == 2 * WIDTH


def test_missing_module_is_one_clear_error(monkeypatch):
    import neuroheat.probing.methods as methods

    monkeypatch.setitem(methods.METHODS, "gaussian", ("neuroheat.probing.not_there", "f"))
    with pytest.raises(InputError, match="neuroheat.probing.not_there"):
        get_method("gaussian")


def test_package_names_are_functions_even_after_submodule_imports():
    """No module shares a name with the function it exports (a submodule import would
    otherwise replace the function on the package)."""
    import importlib
    import types

    import neuroheat.probing as probing

    for name in probing.__all__:
        importlib.import_module(probing._LAZY[name])
        assert not isinstance(getattr(probing, name), types.ModuleType), name
