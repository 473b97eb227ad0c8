"""Probeless ranking and streamed class means on planted-signal stores."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from neuroheat import open_store
from neuroheat.errors import InputError
from neuroheat.probing import Labels, Ranking, class_means, probeless, probeless_scores
from neuroheat.probing import means as means_module
from neuroheat.store import write_store
from tests.helpers.stores import planted_corpus, stored_values, write_shards

PLANTED = (1, 5)  # (layer, neuron) that carries the label


def _planted(seed: int = 0, n_sentences: int = 40, n_classes: int = 4, width: int = 8):
    """Sentences whose labels are random classes; neuron PLANTED = 3 · class + noise."""

    def plant(a, lab):
        a[:, PLANTED[0], PLANTED[1]] += 3.0 * lab.astype(np.float32)

    return planted_corpus(seed, n_sentences, n_classes, plant, width=width)


@pytest.fixture
def planted(tmp_path):
    sents, acts, labs = _planted()
    path = write_store(tmp_path / "acts.h5", sents, acts, dtype="float16")
    with open_store(path) as store:
        yield store, Labels.from_sentences(labs), acts


def _direct_means(acts, labels: Labels, layers, dtype="float16"):
    values = stored_values(acts, dtype)  # [rows, n_layers, width] as stored
    x = np.concatenate([values[:, lay] for lay in layers], axis=1)
    counts = np.bincount(labels.ids, minlength=len(labels.classes))
    sums = np.stack([x[labels.ids == c].sum(axis=0) for c in range(len(labels.classes))])
    return counts, sums


@pytest.mark.parametrize("chunk_mb", [1e-5, 3e-4, 0.01, 64.0])
def test_chunked_class_means_equal_direct(planted, chunk_mb):
    store, labels, acts = planted
    counts, sums = _direct_means(acts, labels, [0, 1])
    cm = class_means(store, labels, chunk_mb=chunk_mb)
    np.testing.assert_array_equal(cm.counts, counts)
    np.testing.assert_allclose(cm.sums, sums, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(cm.means, sums / counts[:, None], rtol=1e-12, atol=1e-12)
    assert cm.neurons[:, 0].tolist() == [0] * 8 + [1] * 8
    assert cm.neurons[8 + 5].tolist() == list(PLANTED)


def test_small_blocks_equal_direct(planted, monkeypatch):
    store, labels, acts = planted
    monkeypatch.setattr(means_module, "BLOCK_BYTES", 8 * 8 * 3)  # 3 rows a block
    counts, sums = _direct_means(acts, labels, [1])
    cm = class_means(store, labels, layers=[1], chunk_mb=1e-4)
    np.testing.assert_allclose(cm.sums, sums, rtol=1e-12, atol=1e-10)


def test_class_means_over_shards(tmp_path):
    sents, acts, labs = _planted(seed=3)
    paths = write_shards(tmp_path, sents, acts, [13, 27])
    labels = Labels.from_sentences(labs)
    counts, sums = _direct_means(acts, labels, [0, 1], dtype="float32")
    with open_store([str(p) for p in paths]) as store:
        cm = class_means(store, labels, chunk_mb=1e-4)
    np.testing.assert_array_equal(cm.counts, counts)
    np.testing.assert_allclose(cm.sums, sums, rtol=1e-12, atol=1e-10)


def test_negative_ids_are_left_out(planted):
    store, labels, acts = planted
    ids = labels.ids.copy()
    ids[: store.offsets[10]] = -1  # hold out the first 10 sentences
    masked = Labels(ids=ids, classes=labels.classes, offsets=labels.offsets)
    cm = class_means(store, masked, chunk_mb=1e-4)
    values = stored_values(acts, "float16")[:, 1]
    keep = ids >= 0
    for c in range(len(labels.classes)):
        sel = keep & (ids == c)
        assert cm.counts[c] == sel.sum()
        np.testing.assert_allclose(cm.sums[c, 8:], values[sel].sum(axis=0), atol=1e-10)


def test_probeless_ranks_planted_neuron_first(planted, tmp_path):
    store, labels, _ = planted
    ranking = probeless(store, labels, chunk_mb=1e-4)
    assert ranking.pairs(1) == [list(PLANTED)]
    assert sorted(ranking.order.tolist()) == list(range(16))
    assert ranking.pairs(1) == probeless(store, labels, layers="1").pairs(1)
    back = Ranking.load(ranking.save(tmp_path / "rank.json"))
    assert back.pairs() == ranking.pairs() and back.method == "probeless"
    np.testing.assert_array_equal(back.scores, ranking.scores)


def test_probeless_scores_formula():
    rng = np.random.default_rng(7)
    means = rng.standard_normal((5, 6))
    pairwise = sum(np.abs(means[a] - means[b]) for a, b in itertools.combinations(range(5), 2))
    np.testing.assert_allclose(probeless_scores(means), pairwise, rtol=1e-12)
    with_absent = np.vstack([means, np.full(6, np.nan)])
    np.testing.assert_allclose(probeless_scores(with_absent), pairwise, rtol=1e-12)
    with pytest.raises(InputError, match="at least 2 classes"):
        probeless_scores(means[:1])


def test_misaligned_labels(planted):
    store, labels, _ = planted
    short = Labels.from_sentences([["a", "b"]])
    with pytest.raises(InputError, match="read_labels"):
        class_means(store, short)
    with pytest.raises(InputError, match="sentence-level"):
        class_means(store, Labels.from_sentences(["x"] * store.num_sentences,
                                                 sentence_level=True))
    with pytest.raises(InputError, match="layer 7 is not in this store"):
        class_means(store, labels, layers=[7])
