"""top_contexts (streaming top-k) and neuron_stats against plain numpy."""

from __future__ import annotations

import numpy as np
import pytest

from neuroheat.analysis import neuron_stats, top_contexts
from neuroheat.store import write_store
from tests.helpers.stores import random_corpus, stored_values


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    sents, acts = random_corpus(3, n_sentences=50, width=5)
    path = write_store(tmp_path_factory.mktemp("ctx") / "s.h5", sents, acts, dtype="float16")
    return path, sents, stored_values(acts, "float16")


@pytest.mark.parametrize("lowest", [False, True])
@pytest.mark.parametrize("chunk_mb", [0.0001, 64])
def test_top_contexts_match_a_full_sort(store, lowest, chunk_mb):
    path, sents, values = store
    v = values[:, 1, 2]
    order = np.lexsort((np.arange(len(v)), v if lowest else -v))[:8]
    got = top_contexts(path, 1, 2, k=8, lowest=lowest, chunk_mb=chunk_mb)
    assert [c.value for c in got] == [float(np.float32(v[i])) for i in order]
    starts = np.cumsum([0] + [len(s) for s in sents])
    for c, row in zip(got, order, strict=True):
        assert starts[c.sentence] + c.position == row
        assert c.words == sents[c.sentence] and c.word == sents[c.sentence][c.position]
    assert got[0].to_dict()["sentence"] == got[0].sentence


def test_top_contexts_ties_go_to_the_earlier_word(tmp_path):
    sents = [["a", "b"], ["c", "d", "e"]]
    acts = [np.array([1.0, 5.0]).reshape(2, 1, 1), np.array([5.0, 0.0, 5.0]).reshape(3, 1, 1)]
    path = write_store(tmp_path / "s.h5", sents, acts)
    got = top_contexts(path, 0, 0, k=2, chunk_mb=1e-6)
    assert [(c.sentence, c.position, c.word) for c in got] == [(0, 1, "b"), (1, 0, "c")]
    assert len(top_contexts(path, 0, 0, k=100)) == 5


def test_neuron_stats_match_numpy(store):
    path, _, values = store
    table = neuron_stats(path, threshold=0.25, chunk_mb=0.0005)
    assert list(table.layer) == [0] * 5 + [1] * 5 and list(table.neuron) == list(range(5)) * 2
    flat = values.reshape(len(values), -1).T  # [layers*width, rows]
    np.testing.assert_allclose(table.mean, flat.mean(1), rtol=1e-10)
    np.testing.assert_allclose(table.std, flat.std(1), rtol=1e-10)
    assert np.array_equal(table.min, flat.min(1)) and np.array_equal(table.max, flat.max(1))
    assert np.array_equal(table.frac_above, (flat > 0.25).mean(1))
    assert np.array_equal(table.count, np.full(10, len(values)))
    rec = table.to_records()
    assert rec[0]["layer"] == 0 and isinstance(rec[0]["count"], int)
    assert table.to_csv().splitlines()[0] == "layer,neuron,count,mean,std,min,max,frac_above"
    plain = neuron_stats(path, layers=1)
    assert plain.frac_above is None and len(plain) == 5
    assert plain.to_csv().splitlines()[0] == "layer,neuron,count,mean,std,min,max"
