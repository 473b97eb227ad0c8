"""Example selection: disjoint sentences, seeded, one file == shards, dense and latent stores."""

from __future__ import annotations

import numpy as np

from neuroheat.autointerp.examples import select_examples
from neuroheat.store.sparse_writer import SparseStoreWriter
from neuroheat.store.stats import RunningStats

ARGS = {"explain": 6, "activating": 5, "non_activating": 8, "window": 2}


def _flat(found):
    return {k: [[(e.sentence, e.position, e.value, tuple(e.words), tuple(e.values.tolist()))
                 for e in group] for group in (v.explain, v.activating, v.non_activating)]
            for k, v in found.items()}


def test_explanation_and_scoring_share_no_sentence(planted):
    found = select_examples(planted["file"], {0: [0, 3], 1: [0, 1, 2, 3]}, seed=0, **ARGS)
    assert not found.pop((0, 0)).explain  # a constant neuron never exceeds its median
    for ex in found.values():
        shown = {e.sentence for e in ex.explain}
        scored = {e.sentence for e in ex.activating + ex.non_activating}
        assert shown and not shown & scored
    cat = found[(1, 0)]
    assert all(e.words[e.center] == "cat" and e.value == 5.0 for e in cat.explain)
    assert all(e.words[e.center] == "cat" for e in cat.activating)
    assert all("cat" not in e.words and not e.values.any() for e in cat.non_activating)
    assert len(cat.non_activating) == 8 and len(cat.activating) >= 3


def test_windows_and_values_are_the_stored_ones(planted):
    found = select_examples(planted["file"], {1: [3]}, seed=1, **ARGS)[(1, 3)]
    for e in found.explain + found.activating + found.non_activating:
        words = planted["sents"][e.sentence]
        acts = planted["acts"][e.sentence][:, 1, 3]
        a = max(0, e.position - 2)
        assert e.words == words[a:e.position + 3]
        assert np.array_equal(e.values, acts[a:e.position + 3])
        assert e.value == acts[e.position]
    assert all(e.value > found.threshold for e in found.explain + found.activating)
    assert all(e.values.max() <= found.floor for e in found.non_activating)


def test_seeded_and_identical_for_shards(planted):
    units = {0: [3], 1: [0, 3]}
    one = _flat(select_examples(planted["file"], units, seed=3, **ARGS))
    again = _flat(select_examples(planted["file"], units, seed=3, **ARGS))
    shards = _flat(select_examples(planted["shards"], units, seed=3, **ARGS))
    other = _flat(select_examples(planted["file"], units, seed=4, **ARGS))
    assert one == again == shards
    assert one != other


def test_sparse_latent_store(tmp_path, planted):
    sents = planted["sents"]
    x = np.concatenate([a[:, 1, :] for a in planted["acts"]]).astype(np.float16)
    x[:, 3] = np.maximum(x[:, 3], 0)  # latents are >= 0
    off = np.concatenate([[0], np.cumsum([len(s) for s in sents])]).astype(np.int64)
    path = tmp_path / "lat.h5"
    w = SparseStoreWriter.create(path, sents, layers=[1], width=4)
    r, c = np.nonzero(x)
    w.write_unit(0, list(range(len(sents))), off, np.count_nonzero(x, axis=1), c, x[r, c])
    w.finalize(RunningStats.of(x[:, None, :].astype(np.float64)),
               np.count_nonzero(x, axis=0)[None, :])
    sparse = _flat(select_examples(str(path), {1: [0, 1, 3]}, seed=0, **ARGS))
    dense = _flat(select_examples(planted["file"], {1: [0, 1]}, seed=0, **ARGS))
    assert sparse[(1, 0)] == dense[(1, 0)] and sparse[(1, 1)] == dense[(1, 1)]
    lat = select_examples(str(path), {1: [3]}, seed=0, **ARGS)[(1, 3)]
    assert all(not e.values.any() for e in lat.non_activating)  # median 0: all zero
    assert all(e.value > 0 for e in lat.explain)
