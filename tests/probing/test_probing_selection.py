"""The default probe's model selection: l2 chosen on a development split of the training
sentences, never on the test split; ProbeConfig / Split and the old keyword spellings."""

from __future__ import annotations

import numpy as np
import pytest

from neuroheat import open_store
from neuroheat.errors import InputError
from neuroheat.probing import Labels, Probe, ProbeConfig, ProbeData, Split
from neuroheat.probing import selection as selection_module
from neuroheat.probing.config import resolve
from tests.helpers.stores import class_labels, write_planted_store

WIDTH = 8


@pytest.fixture(scope="module")
def weak(tmp_path_factory):
    """Four classes, each shifting a different layer-1 neuron weakly: a task a probe can
    overfit (16 columns, a few thousand rows), so the penalty matters."""
    path, labs, _ = write_planted_store(tmp_path_factory.mktemp("sel") / "acts.h5", 5, 160,
                                        width=WIDTH, signal=[(1, 0), (1, 1)], shift=0.6,
                                        n_classes=4, lengths=(4, 12))
    with open_store(path) as store:
        yield store, class_labels(labs)


def _shuffle_rows(labels: Labels, rows: slice, seed: int) -> Labels:
    ids = np.asarray(labels.ids).copy()
    ids[rows] = np.random.default_rng(seed).permutation(ids[rows])
    return Labels(ids=ids, classes=labels.classes, offsets=labels.offsets)


def test_shuffled_test_labels_do_not_change_the_selection(weak):
    store, labels = weak
    split = Split(test_sentences=(0, 40))
    test_rows = slice(0, int(np.asarray(store.offsets)[40]))
    shuffled = _shuffle_rows(labels, test_rows, seed=1)
    assert not np.array_equal(shuffled.ids, labels.ids)
    a = Probe(seed=0).fit(store, labels, layers=[0, 1], split=split)
    b = Probe(seed=0).fit(store, shuffled, layers=[0, 1], split=split)
    assert a.selected is not None and a.selected == b.selected  # l2, iterations, whole path
    np.testing.assert_array_equal(a.weights, b.weights)
    assert a.accuracy["train"] == b.accuracy["train"]
    assert a.accuracy["test"] != b.accuracy["test"]  # the test rows did change
    # whereas shuffling training labels changes what the development split sees
    train_rows = slice(int(np.asarray(store.offsets)[40]), None)
    c = Probe(seed=0).fit(store, _shuffle_rows(labels, train_rows, 2), layers=[0, 1],
                          split=split)
    assert c.selected["path"] != a.selected["path"]


def test_selected_is_the_best_development_score_and_reported(weak):
    store, labels = weak
    probe = Probe(seed=0).fit(store, labels, layers=[0, 1], test_fraction=0.2)
    sel = probe.selected
    path = sel["path"]
    assert [p["l2"] for p in path] == list(selection_module.PENALTY_PATH[:len(path)])
    best = path[0]  # a weaker penalty is kept only when it beats the best by MIN_GAIN
    for step in path[1:]:
        if step["dev"] > best["dev"] * (1 + selection_module.MIN_GAIN):
            best = step
    assert sel["l2"] == best["l2"] == probe.penalties["l2"] == probe.settings()["l2"]
    assert 1 <= sel["iterations"] <= selection_module.REFIT_ITERS
    assert sel["l1"] == 1e-5 and sel["dev_fraction"] == 0.2 and sel["dev_rows"] > 0
    # the path stops PATIENCE steps after its best (or at its end)
    i = path.index(best)
    assert len(path) == min(len(selection_module.PENALTY_PATH),
                            i + 1 + selection_module.PATIENCE)
    doc = probe.to_dict()
    assert doc["selected"]["l2"] == sel["l2"] and doc["settings"]["l2"] == sel["l2"]


def test_development_split_is_training_sentences_only(weak):
    store, labels = weak
    data = ProbeData(store, labels, layers=[1], split=Split(test_fraction=0.25), seed=3)
    view = data.holdout()
    train, test = data.masks["train"], data.masks["test"]
    fit, dev = view.masks["train"], view.masks["test"]
    assert not (dev & test).any() and not (fit & test).any()
    assert np.array_equal(fit | dev, train) and not (fit & dev).any()
    # whole sentences, about dev_fraction of the training ones, seeded
    offsets = np.asarray(store.offsets)
    sent = np.repeat(np.arange(store.num_sentences), np.diff(offsets))
    dev_sents, train_sents = set(sent[dev]), set(sent[train])
    assert not dev_sents & set(sent[fit])
    assert len(dev_sents) == round(0.2 * len(train_sents))
    again = data.holdout()
    assert np.array_equal(again.masks["test"], dev)
    assert not np.array_equal(data.holdout(seed=4).masks["test"], dev)
    # cached rows are sliced, not reread: the same rows as a streamed copy
    x_dev, y_dev = view.arrays("test")
    streamed = ProbeData(store, labels, layers=[1], split=Split(test_fraction=0.25), seed=3,
                         cache_mb=0).holdout()
    x2, y2 = streamed.arrays("test")
    np.testing.assert_array_equal(x_dev, x2)
    np.testing.assert_array_equal(y_dev, y2)


def test_given_penalties_turn_the_selection_off(weak):
    store, labels = weak
    fit = {"layers": [1], "test_fraction": 0.2}
    fixed = Probe(l2=0.01, seed=0).fit(store, labels, **fit)
    assert fixed.selected is None and fixed.penalties == {"l1": 1e-5, "l2": 0.01}
    only_l1 = Probe(l1=0.0, seed=0).fit(store, labels, **fit)
    assert only_l1.selected is None and only_l1.penalties == {"l1": 0.0, "l2": 1e-5}
    neurox = Probe(recipe="neurox", epochs=1, seed=0).fit(store, labels, **fit)
    assert neurox.selected is None and neurox.penalties == {"l1": 1e-5, "l2": 1e-5}
    # a loaded probe records the penalties it was trained with
    assert Probe.from_dict(Probe(seed=0).fit(store, labels, **fit).to_dict()).l2 is not None


def test_too_few_training_sentences_is_a_clear_error(tmp_path):
    path, labs, _ = write_planted_store(tmp_path / "tiny.h5", 0, 3, width=4, signal=[(1, 0)])
    with open_store(path) as store:
        with pytest.raises(InputError, match="l2="):
            Probe().fit(store, class_labels(labs), split=Split(test_sentences=(0, 1)))
        Probe(l2=1e-3).fit(store, class_labels(labs), split=Split(test_sentences=(0, 1)))


def test_config_and_split_objects_equal_the_keywords(weak):
    store, labels = weak
    a = Probe(ProbeConfig(l2=0.003, seed=2, standardize=True)).fit(
        store, labels, layers="1", split=Split(test_fraction=0.2, dev_fraction=0.3))
    b = Probe(l2=0.003, seed=2).fit(store, labels, layers="1", test_fraction=0.2,
                                    standardize=True, dev_fraction=0.3)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert a.settings() == b.settings() and a.config.standardize
    assert a.recipe == "default" and a.seed == 2  # config fields read as attributes
    with pytest.raises(AttributeError):
        _ = a.not_a_setting


def test_resolve_and_bad_settings():
    cfg, split = resolve(None, Split(test_fraction=0.1), {"l2": 0.5, "test_fraction": 0.3,
                                                          "seed": 4})
    assert cfg.l2 == 0.5 and split.test_fraction == 0.3 and split.seed_or(cfg.seed) == 4
    assert Split(test_sentences="3:9").test_sentences == (3, 9)
    with pytest.raises(InputError, match="unknown setting"):
        resolve(None, None, {"l3": 1})
    with pytest.raises(InputError, match="not both"):
        Split.build(None, test_sentences=(0, 2), test_fraction=0.5)
    with pytest.raises(InputError, match="START:STOP"):
        Split(test_sentences="5")
    with pytest.raises(InputError, match="dev_fraction"):
        Split.build(None, dev_fraction=1.0)
    with pytest.raises(InputError, match="l1 and l2"):
        ProbeConfig.build(None, l2=-1.0)
    with pytest.raises(InputError, match="ProbeConfig"):
        resolve(Split(), None, {})


def test_an_empty_penalty_path_is_a_clear_error(weak):
    store, labels = weak
    data = ProbeData(store, labels, layers=[0, 1])
    with pytest.raises(InputError, match="penalty path is empty"):
        selection_module.select_penalty(data, outputs=4, l1=1e-5, path=())
