"""word_index: top_words_all and, for every word, exactly what word_neurons returns."""

from __future__ import annotations

import numpy as np

from neuroheat.analysis import top_words_all, word_neurons
from neuroheat.analysis.word_index import word_index
from neuroheat.store import open_store, write_store
from tests.helpers.stores import random_corpus, write_shards


def test_word_index_equals_top_words_all_and_top_neurons(tmp_path):
    sents, acts = random_corpus(3, n_sentences=30, width=8, n_layers=3)
    acts = [np.round(a) for a in acts]  # ties between neurons
    write_store(tmp_path / "a.h5", sents, acts, dtype="float16")
    shards = write_shards(tmp_path, sents, acts, [12], dtype="float16")
    for src in (tmp_path / "a.h5", shards):
        table, index = word_index(src, k_words=5, k_neurons=4, block_mb=0.0003)
        assert table.to_records() == top_words_all(src, k=5).to_records()
        with open_store(src) as store:
            for word in store.vocab:
                assert index.get(word).to_records() == \
                    word_neurons(store, word, k=4).to_records(), word
