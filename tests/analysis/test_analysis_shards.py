"""Sharded stores: per-shard partials merged by word string equal the one-file result;
a process pool and a Dask LocalCluster give exactly the single-process numbers."""

from __future__ import annotations

import numpy as np
import pytest

from neuroheat.analysis import (
    neuron_stats,
    open_source,
    top_contexts,
    top_words,
    top_words_all,
    word_neurons,
)
from neuroheat.store import write_store
from tests.helpers.stores import assert_same_ranking, random_corpus, write_shards


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("shards")
    sents, acts = random_corpus(7, n_sentences=40, n_types=15, width=6)
    # shard 1 has words the others lack, shard 2 starts with a word new to it
    sents[20] = ["only-in-shard-1", *sents[20]]
    acts[20] = np.concatenate([acts[20][:1] + 5, acts[20]])
    single = write_store(tmp / "single.h5", sents, acts)
    shards = write_shards(tmp, sents, acts, [13, 27])
    return {"single": single, "shards": shards, "sents": sents, "tmp": tmp}


def _tables_equal(a, b, exact: bool) -> None:
    assert np.array_equal(a.layer, b.layer) and np.array_equal(a.neuron, b.neuron)
    for i in range(len(a)):
        if exact:
            assert a.words(i) == b.words(i)
        else:
            assert_same_ranking(a.words(i), b.words(i), tol=1e-9)


def test_global_vocabulary_follows_first_occurrence(corpus):
    with open_source(corpus["shards"]) as src:
        flat = [w for s in corpus["sents"] for w in s]
        assert src.vocab == list(dict.fromkeys(flat))
        assert src.num_words == len(flat)
        counts = {w: flat.count(w) for w in set(flat)}
        assert dict(zip(src.vocab, src.type_counts.tolist(), strict=True)) == counts


def test_sharded_equals_single_file(corpus):
    single = top_words_all(corpus["single"], k=4)
    sharded = top_words_all(corpus["shards"], k=4)
    _tables_equal(single, sharded, exact=False)
    glob = str(corpus["tmp"] / "acts-shard*of3.h5")
    _tables_equal(sharded, top_words_all(glob, k=4), exact=True)
    assert_same_ranking(top_words(corpus["shards"], 1, 2), top_words(corpus["single"], 1, 2),
                        tol=1e-9)
    a = word_neurons(corpus["single"], "only-in-shard-1", k=5)
    b = word_neurons(corpus["shards"], "only-in-shard-1", k=5)
    assert [(x.layer, x.neuron) for x in a] == [(x.layer, x.neuron) for x in b]


def test_shards_given_out_of_order_are_read_in_sentence_order(corpus):
    pytest.importorskip("neuroheat.store.sharded")
    shuffled = corpus["shards"][::-1]
    _tables_equal(top_words_all(corpus["shards"], k=3), top_words_all(shuffled, k=3),
                  exact=True)
    assert top_contexts(shuffled, 0, 2, k=4) == top_contexts(corpus["shards"], 0, 2, k=4)


def test_sharded_contexts_and_stats_equal_single_file(corpus):
    for lowest in (False, True):
        a = top_contexts(corpus["single"], 1, 3, k=7, lowest=lowest)
        b = top_contexts(corpus["shards"], 1, 3, k=7, lowest=lowest)
        assert a == b
    a = neuron_stats(corpus["single"], threshold=0.3)
    b = neuron_stats(corpus["shards"], threshold=0.3)
    for field in ("count", "frac_above", "min", "max"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    np.testing.assert_allclose(a.mean, b.mean, rtol=1e-12)
    np.testing.assert_allclose(a.std, b.std, rtol=1e-12)


def test_process_pool_equals_one_process(corpus):
    serial = top_words_all(corpus["shards"], k=3)
    pooled = top_words_all(corpus["shards"], k=3, workers=2, block_mb=0.0005)
    _tables_equal(serial, pooled, exact=True)
    assert np.array_equal(serial.scores, pooled.scores, equal_nan=True)
    # one file: the pool splits the work by layer
    _tables_equal(top_words_all(corpus["single"], k=3),
                  top_words_all(corpus["single"], k=3, workers=2), exact=True)


def test_dask_local_cluster_equals_one_process(corpus):
    distributed = pytest.importorskip("distributed")
    serial = top_words_all(corpus["shards"], k=3)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            on_dask = top_words_all(corpus["shards"], k=3, scheduler=client)
            by_address = top_words_all(corpus["shards"], k=3, layers=[1],
                                       scheduler=cluster.scheduler_address)
            contexts = top_contexts(corpus["shards"], 0, 1, k=5, scheduler=client)
            stats = neuron_stats(corpus["shards"], threshold=0.0, scheduler=client)
            neurons = word_neurons(corpus["shards"], "w3", k=4, scheduler=client)
    _tables_equal(serial, on_dask, exact=True)
    assert np.array_equal(serial.scores, on_dask.scores, equal_nan=True)
    _tables_equal(top_words_all(corpus["shards"], k=3, layers=[1]), by_address, exact=True)
    assert contexts == top_contexts(corpus["shards"], 0, 1, k=5)
    assert np.array_equal(stats.frac_above, neuron_stats(corpus["shards"], threshold=0.0)
                          .frac_above)
    assert neurons == word_neurons(corpus["shards"], "w3", k=4)
