"""Gaussian probe with greedy MI selection, and its streamed moments, on planted stores."""

from __future__ import annotations

import numpy as np
import pytest

from neuroheat import open_store
from neuroheat.errors import InputError
from neuroheat.probing import Labels, Ranking
from neuroheat.probing.gaussian_probe import (
    class_moments,
    gaussian,
    gaussian_mi,
    gaussian_selection,
    moments_of_ids,
)
from neuroheat.store import write_store
from tests.helpers.stores import planted_corpus, stored_values, write_shards

PLANTED = (1, 5)  # (layer, neuron) that carries the label
WIDTH = 8


def _planted(seed: int = 0, n_sentences: int = 60, n_classes: int = 3):
    """Random classes; neuron PLANTED = 3 · class + noise; neuron (0, 2) duplicates it."""

    def plant(a, lab):
        a[:, PLANTED[0], PLANTED[1]] += 3.0 * lab.astype(np.float32)
        a[:, 0, 2] = a[:, PLANTED[0], PLANTED[1]] + 0.01 * a[:, 0, 3]

    return planted_corpus(seed, n_sentences, n_classes, plant, width=WIDTH)


@pytest.fixture
def planted(tmp_path):
    sents, acts, labs = _planted()
    path = write_store(tmp_path / "acts.h5", sents, acts, dtype="float16")
    with open_store(path) as store:
        yield store, Labels.from_sentences(labs), acts


def _direct(acts, ids, n_classes, layers, dtype="float16"):
    values = stored_values(acts, dtype)
    x = np.concatenate([values[:, lay] for lay in layers], axis=1)
    counts = np.bincount(ids[ids >= 0], minlength=n_classes)
    sums = np.stack([x[ids == c].sum(axis=0) for c in range(n_classes)])
    outer = np.stack([x[ids == c].T @ x[ids == c] for c in range(n_classes)])
    return counts, sums, outer


@pytest.mark.parametrize("chunk_mb", [1e-5, 3e-4, 0.01, 64.0])
def test_streamed_moments_equal_direct(planted, chunk_mb):
    store, labels, acts = planted
    counts, sums, outer = _direct(acts, labels.ids, len(labels.classes), [0, 1])
    m = class_moments(store, labels, chunk_mb=chunk_mb)
    np.testing.assert_array_equal(m.counts, counts)
    np.testing.assert_allclose(m.sums, sums, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(m.outer, outer, rtol=1e-12, atol=1e-9)
    assert m.neurons[8 + 5].tolist() == list(PLANTED)


def test_moments_merge_and_shards(tmp_path):
    sents, acts, labs = _planted(seed=2)
    labels = Labels.from_sentences(labs)
    counts, sums, outer = _direct(acts, labels.ids, 3, [1], dtype="float32")
    paths = write_shards(tmp_path, sents, acts, [17, 40])
    with open_store([str(p) for p in paths]) as store:
        m = class_moments(store, labels, layers=[1], chunk_mb=1e-4)
        cut = int(store.offsets[30])
        a_ids, b_ids = labels.ids.copy(), labels.ids.copy()
        a_ids[cut:], b_ids[:cut] = -1, -1
        a = moments_of_ids(store, a_ids, 3, [1], chunk_mb=2e-4)
        b = moments_of_ids(store, b_ids, 3, [1], chunk_mb=1e-3)
    np.testing.assert_allclose(m.outer, outer, rtol=1e-12, atol=1e-9)
    merged = a.merge(b)
    np.testing.assert_array_equal(merged.counts, counts)
    np.testing.assert_allclose(merged.sums, sums, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(merged.outer, outer, rtol=1e-12, atol=1e-9)


def test_planted_neuron_first_and_duplicate_not_second(planted, tmp_path):
    store, labels, _ = planted
    r = gaussian(store, labels, chunk_mb=1e-4)
    assert isinstance(r, Ranking) and r.method == "gaussian"
    assert r.pairs(1) == [list(PLANTED)]
    assert sorted(r.order.tolist()) == list(range(16))
    # the near-duplicate (0, 2) carries the same information: it is not picked second
    assert r.pairs(2)[1] != [0, 2]
    assert int(np.argmax(r.scores)) in (2, 8 + 5)  # the single-dimension scores find both
    again = gaussian(store, labels, chunk_mb=0.01)
    assert again.pairs() == r.pairs()
    back = Ranking.load(r.save(tmp_path / "rank.json"))
    assert back.pairs() == r.pairs()


def test_incremental_mi_equals_slogdet(planted):
    store, labels, _ = planted
    m = class_moments(store, labels)
    r = gaussian_selection(m, k=6)
    assert len(r.selected) == 6 and r.order[:6].tolist() == r.selected.tolist()
    for t in range(6):
        direct = gaussian_mi(m, r.selected[:t + 1])
        assert r.mutual_information[t] == pytest.approx(direct, rel=1e-6, abs=1e-9)
    for j in (0, 5, 13):
        assert r.scores[j] == pytest.approx(gaussian_mi(m, [j]), rel=1e-9, abs=1e-12)
    # the columns after the greedy ones follow by single-dimension score, ties by index
    rest = r.order[6:]
    keys = [(-r.scores[c], c) for c in rest]
    assert keys == sorted(keys)


def test_greedy_is_exhaustive_best_at_each_step(planted):
    store, labels, _ = planted
    m = class_moments(store, labels, layers=[1])
    r = gaussian_selection(m, k=3)
    for t in range(3):
        base = r.selected[:t].tolist()
        best = max(range(8), key=lambda j: -np.inf if j in base else gaussian_mi(m, [*base, j]))
        assert r.selected[t] == best


def test_constant_column_last(tmp_path):
    sents, acts, labs = _planted(seed=4)
    for a in acts:
        a[:, 1, 0] = 2.5
    path = write_store(tmp_path / "c.h5", sents, acts)
    with open_store(path) as store:
        r = gaussian(store, Labels.from_sentences(labs), layers=[1])
    assert r.order[-1] == 0 and r.scores[0] == 0.0
    assert len(r.selected) == 7


def test_bad_input(planted):
    store, labels, _ = planted
    with pytest.raises(InputError, match="k must be"):
        gaussian(store, labels, k=-1)
    with pytest.raises(InputError, match="chunk_mb"):
        gaussian(store, labels, chunk_mb=0)
    with pytest.raises(InputError, match="prior"):
        gaussian(store, labels, prior=-1.0)
    with pytest.raises(InputError, match="read_labels"):
        gaussian(store, Labels.from_sentences([["a", "b"]]))
    with pytest.raises(InputError, match="layer 7 is not in this store"):
        gaussian(store, labels, layers=[7])
    one = Labels.from_sentences([["x"] * n for n in np.diff(store.offsets)])
    with pytest.raises(InputError, match="at least 2 classes"):
        gaussian(store, one)
