"""Control tasks (Hewitt & Liang 2019): per-type labels, seeds, selectivity."""

from __future__ import annotations

import numpy as np
import pytest

from neuroheat import open_store
from neuroheat.errors import InputError
from neuroheat.probing import Labels
from neuroheat.probing.control import control_labels, control_task, selectivity, train_rows
from tests.helpers.stores import class_labels, write_planted_store

WIDTH = 6


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Layer 0 neuron 2 carries ``labs``; ``noise`` is unrelated to every activation."""
    path, labs, noise = write_planted_store(
        tmp_path_factory.mktemp("ctl") / "acts.h5", 1, 250, width=WIDTH, n_layers=1,
        signal=[(0, 2)], lengths=(4, 13), vocab=500, noise=True)
    with open_store(path) as store:
        yield store, class_labels(labs), class_labels(noise, "n")


def test_one_label_per_type(planted):
    store, labels, _ = planted
    ctl = control_labels(labels, store, seed=0)
    assert ctl.classes == labels.classes and len(ctl) == len(labels)
    words = np.asarray(store.all_words())
    for w in np.unique(words):
        assert len(set(ctl.ids[words == w].tolist())) == 1
    assert len(set(ctl.ids.tolist())) == 2


def test_seeded(planted):
    store, labels, _ = planted
    a = control_labels(labels, store, seed=5)
    assert np.array_equal(a.ids, control_labels(labels, store, seed=5).ids)
    assert not np.array_equal(a.ids, control_labels(labels, store, seed=6).ids)


def test_distribution_of_training_rows(planted):
    store, labels, _ = planted
    ids = labels.ids.copy()
    train = train_rows(store, labels, test_fraction=0.2, seed=0)
    assert 0.7 < train.mean() < 0.9
    skew = Labels(ids=np.where(np.arange(len(ids)) % 10 == 0, 1, 0), classes=labels.classes,
                  offsets=labels.offsets)
    ctl = control_labels(skew, store, seed=0)
    assert (ctl.ids == 0).mean() > 0.6  # mostly the frequent class
    excluded = Labels(ids=np.where(np.arange(len(ids)) < 5, -1, ids), classes=labels.classes,
                      offsets=labels.offsets)
    assert (control_labels(excluded, store, seed=0).ids[:5] == -1).all()


def test_selectivity_positive_on_an_encoded_task(planted):
    store, labels, _ = planted
    out = control_task(store, labels, layers=[0], test_fraction=0.2, seed=0)
    assert out["task"]["test"] > 0.85
    assert out["accuracy"]["test"] < 0.65
    assert out["selectivity"] > 0.25
    assert set(out["accuracy"]) == {"train", "test"}


def test_selectivity_near_zero_on_a_task_not_encoded(planted):
    store, _, noise = planted
    out = control_task(store, noise, layers=[0], test_fraction=0.2, seed=0)
    assert abs(out["selectivity"]) < 0.1, out


def test_seeded_control_task(planted):
    store, labels, _ = planted
    a = control_task(store, labels, layers=[0], test_fraction=0.2, seed=2)
    assert a == control_task(store, labels, layers=[0], test_fraction=0.2, seed=2)


def test_errors(planted):
    store, labels, _ = planted
    with pytest.raises(InputError, match="regression"):
        control_task(store, labels, layers=[0], test_fraction=0.2, task="regression")
    with pytest.raises(InputError, match="one split"):
        selectivity({"train": None, "test": None}, {"train": 0.5})
    assert selectivity({"train": 0.9, "test": None}, {"train": 0.6, "test": None}) == \
        pytest.approx(0.3)
    short = Labels(ids=labels.ids[:-1], classes=labels.classes,
                   offsets=np.concatenate([labels.offsets[:-1], [labels.offsets[-1] - 1]]))
    with pytest.raises(InputError, match="words"):
        control_labels(short, store)
