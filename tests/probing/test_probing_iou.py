"""IoU ranking (thresholded activation masks vs class masks) on planted-signal stores."""

from __future__ import annotations

import numpy as np
import pytest

from neuroheat import open_store
from neuroheat.errors import InputError
from neuroheat.probing import Labels, Ranking
from neuroheat.probing.iou_masks import iou, iou_scores, quantile_thresholds
from neuroheat.store import write_store
from tests.helpers.stores import planted_corpus, stored_values, write_shards

PLANTED = (1, 5)
WIDTH = 8


def _planted(seed: int = 0, n_sentences: int = 60, n_classes: int = 4):
    """Random classes; neuron PLANTED is high (4 + noise) exactly on class 2's words."""

    def plant(a, lab):
        a[:, PLANTED[0], PLANTED[1]] += 4.0 * (lab == 2)

    return planted_corpus(seed, n_sentences, n_classes, plant, width=WIDTH)


@pytest.fixture
def planted(tmp_path):
    sents, acts, labs = _planted()
    path = write_store(tmp_path / "acts.h5", sents, acts, dtype="float16")
    with open_store(path) as store:
        yield store, Labels.from_sentences(labs), acts


def _direct_iou(x, ids, n_classes, t):
    mask = x > t
    out = np.zeros((x.shape[1], n_classes))
    for j in range(x.shape[1]):
        for c in range(n_classes):
            cls = ids == c
            union = (mask[:, j] | cls).sum()
            out[j, c] = (mask[:, j] & cls).sum() / union if union else 0.0
    return out


def test_planted_neuron_first_with_its_class(planted, tmp_path):
    store, labels, acts = planted
    frac_c2 = float((labels.ids == 2).mean())
    r = iou(store, labels, quantile=1 - frac_c2, chunk_mb=1e-4)
    assert isinstance(r, Ranking) and r.method == "iou"
    assert r.pairs(1) == [list(PLANTED)]
    assert r.best_class_names(1) == ["c2"]
    assert r.scores[r.order[0]] > 0.8 > r.scores[r.order[1]]
    assert sorted(r.order.tolist()) == list(range(16))
    assert iou(store, labels, quantile=1 - frac_c2, chunk_mb=0.01).pairs() == r.pairs()
    back = Ranking.load(r.save(tmp_path / "r.json"))
    assert back.pairs() == r.pairs()
    top10 = iou(store, labels, quantile=0.9)  # a mask smaller than the class
    assert top10.pairs(1) == [list(PLANTED)] and top10.best_class_names(1) == ["c2"]


@pytest.mark.parametrize("chunk_mb", [1e-5, 3e-4, 64.0])
def test_fixed_threshold_equals_direct(planted, chunk_mb):
    store, labels, acts = planted
    x = stored_values(acts, "float16").reshape(len(labels), -1)  # layer 0 then layer 1
    t = np.linspace(-1.0, 1.5, 16)
    r = iou(store, labels, threshold=t, chunk_mb=chunk_mb)
    np.testing.assert_allclose(r.ious, _direct_iou(x, labels.ids, 4, t), rtol=1e-12)
    np.testing.assert_array_equal(r.thresholds, t)
    s = iou(store, labels, threshold=0.5, chunk_mb=chunk_mb)
    np.testing.assert_allclose(s.ious, _direct_iou(x, labels.ids, 4, 0.5), rtol=1e-12)
    np.testing.assert_allclose(s.scores, s.ious.max(axis=1))
    np.testing.assert_array_equal(s.best_class, np.argmax(s.ious, axis=1))


def test_histogram_thresholds_within_one_bin(tmp_path):
    sents, acts, labs = _planted(seed=5)
    paths = write_shards(tmp_path, sents, acts, [20])
    labels = Labels.from_sentences(labs)
    x = stored_values(acts).reshape(len(labels), -1)
    valid = np.ones(len(labels), dtype=bool)
    valid[:25] = False
    with open_store([str(p) for p in paths]) as store:
        for q in (0.5, 0.9, 0.995):
            t = quantile_thresholds(store, valid, [0, 1], q, bins=512, chunk_mb=1e-4)
            exact = np.quantile(x[valid], q, axis=0, method="inverted_cdf")
            width = (x.max(axis=0) - x.min(axis=0)) / 512
            assert np.all(np.abs(t - exact) <= 1.001 * width)


def test_input_not_mutated_and_held_out_rows(planted):
    store, labels, acts = planted
    ids = labels.ids.copy()
    ids[:30] = -1
    masked = Labels(ids=ids, classes=labels.classes, offsets=labels.offsets)
    r = iou(store, masked, threshold=0.0)
    x = stored_values(acts, "float16").reshape(len(labels), -1)
    np.testing.assert_allclose(r.ious, _direct_iou(x[30:], ids[30:], 4, 0.0), rtol=1e-12)
    assert (masked.ids[:30] == -1).all() and (masked.ids[30:] == labels.ids[30:]).all()


def test_iou_scores_formula():
    got = iou_scores(np.array([[2, 0]]), np.array([3]), np.array([4, 0]))
    np.testing.assert_allclose(got, [[2 / 5, 0.0]])


def test_bad_input(planted):
    store, labels, _ = planted
    with pytest.raises(InputError, match="quantile"):
        iou(store, labels, quantile=1.0)
    with pytest.raises(InputError, match="one value per column"):
        iou(store, labels, threshold=[0.1, 0.2])
    with pytest.raises(InputError, match="NaN"):
        iou(store, labels, threshold=float("nan"))
    with pytest.raises(InputError, match="bins"):
        iou(store, labels, bins=0)
    with pytest.raises(InputError, match="chunk_mb"):
        iou(store, labels, chunk_mb=-1)
    with pytest.raises(InputError, match="read_labels"):
        iou(store, Labels.from_sentences([["a"]]))
    with pytest.raises(InputError, match="layer 9 is not in this store"):
        iou(store, labels, layers=[9])
