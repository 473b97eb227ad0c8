"""RunOptions and the one parallel map: options= and the old keywords give the same results."""

from __future__ import annotations

import numpy as np
import pytest

from neuroheat.analysis import (
    RunOptions,
    neuron_stats,
    top_contexts,
    top_words,
    top_words_all,
    word_neurons,
)
from neuroheat.analysis.parallel import map_parts
from neuroheat.errors import InputError
from neuroheat.store import DEFAULT_CHUNK_MB, open_store
from tests.helpers.stores import random_corpus, write_shards


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    sents, acts = random_corpus(21, n_sentences=30, width=4, n_layers=2)
    return write_shards(tmp_path_factory.mktemp("opts"), sents, acts, [9, 20])


def column_sums(part, layer):
    """A module-level task, so that a process pool can run it."""
    return sum(chunk.astype(np.float64).sum(axis=0) for _, chunk in part.iter_rows(layer))


def test_build_merges_options_and_keywords():
    base = RunOptions(workers=3, chunk_mb=8)
    assert RunOptions.build(base, chunk_mb=2) == RunOptions(workers=3, chunk_mb=2)
    assert RunOptions.build() == RunOptions() and RunOptions().chunk_mb == DEFAULT_CHUNK_MB
    with pytest.raises(InputError, match="unknown option chunkmb for RunOptions; valid "
                                         "options: chunk_mb, threads"):
        RunOptions.build(None, chunkmb=3)
    with pytest.raises(InputError, match="chunk_mb must be a positive"):
        RunOptions(chunk_mb=0)
    with pytest.raises(InputError, match="threads must be a positive"):
        RunOptions(threads=0)
    with pytest.raises(InputError, match="config must be a RunOptions"):
        RunOptions.build({"workers": 2})


def test_options_equal_keywords(shards):
    opts = RunOptions(chunk_mb=0.001, threads=2)
    a = top_words_all(shards, k=3, options=opts)
    b = top_words_all(shards, k=3, chunk_mb=0.001, threads=2)
    assert a.to_records() == b.to_records() == top_words_all(shards, k=3).to_records()
    assert top_words(shards, 1, 2, options=opts) == top_words(shards, 1, 2)
    assert word_neurons(shards, "w2", options=opts) == word_neurons(shards, "w2", threads=1)
    assert top_contexts(shards, 0, 1, options=opts) == top_contexts(shards, 0, 1, threads=1)
    s1 = neuron_stats(shards, threshold=0.1, options=opts)
    s2 = neuron_stats(shards, threshold=0.1, workers=2)
    assert np.array_equal(s1.frac_above, s2.frac_above)
    with pytest.raises(InputError, match="unknown option block for RunOptions"):
        top_contexts(shards, 0, 1, block=3)


def test_map_parts_gives_the_same_in_every_mode(shards):
    with open_store(shards) as store:
        calls = [(i, layer) for layer in store.layers for i in range(len(store.parts))]
        serial = list(map_parts(column_sums, store, calls, RunOptions(threads=1)))
        threads = list(map_parts(column_sums, store, calls, RunOptions(threads=3)))
        pool = list(map_parts(column_sums, store, calls, RunOptions(workers=2)))
    assert len(serial) == 6
    for a, b, c in zip(serial, threads, pool, strict=True):
        assert a.tobytes() == b.tobytes() == c.tobytes()
