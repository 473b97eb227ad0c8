"""top_words / top_words_all / word_neurons against a direct implementation of the formula."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import neuroheat as nh
from neuroheat.analysis import top_words, top_words_all, word_neurons
from neuroheat.analysis.scores import dev_sums
from neuroheat.store import write_store
from tests.helpers.stores import (
    assert_same_ranking,
    naive_scores,
    naive_top_words,
    random_corpus,
    stored_values,
)

DISCRETE = [-2.0, -1.0, -0.5, 0.0, 0.25, 1.0, 3.0]


@st.composite
def corpora(draw):
    n_layers = draw(st.integers(1, 2))
    width = draw(st.integers(1, 5))
    vocab = draw(st.lists(st.text("abé日,.<", min_size=1, max_size=3), min_size=1, max_size=6,
                          unique=True))
    sents = draw(st.lists(st.lists(st.sampled_from(vocab), min_size=0, max_size=6),
                          min_size=1, max_size=5))
    assume(sum(map(len, sents)) > 0)
    discrete = draw(st.booleans())
    elems = (st.sampled_from(DISCRETE) if discrete
             else st.floats(-100, 100, width=32, allow_subnormal=False))
    acts = [draw(arrays(np.float32, (len(s), n_layers, width), elements=elems)) for s in sents]
    layers = draw(st.sampled_from([None, [3, 7][:n_layers]]))
    dtype = "float16" if discrete and draw(st.booleans()) else "float32"
    return sents, acts, layers, dtype


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora(), st.sampled_from([1, 2, 3, None]), st.sampled_from([0.0, 0.1, 0.5]),
       st.sampled_from([1e-5, 64]), st.sampled_from([1e-5, 256]))
def test_top_words_equal_the_formula(corpus, k, t, chunk_mb, block_mb):
    sents, acts, layers, dtype = corpus
    with tempfile.TemporaryDirectory() as tmp:
        path = write_store(Path(tmp) / "s.h5", sents, acts, layers=layers, dtype=dtype)
        words = [w for s in sents for w in s]
        values = stored_values(acts, dtype)
        with nh.open_store(path) as store:
            table = top_words_all(store, k=k, min_threshold=t, chunk_mb=chunk_mb,
                                  block_mb=block_mb)
            assert len(table) == store.num_layers * store.width
            for pos, layer in enumerate(store.layers):
                st_ = store.stats(layer)
                for n in range(store.width):
                    sigma = math.sqrt(st_["M2"][n] / st_["count"][n])
                    expected = naive_top_words(words, values[:, pos, n], st_["mean"][n], sigma,
                                               st_["min"][n], st_["max"][n], k, t)
                    assert_same_ranking(table.get(layer, n), expected)
            layer = store.layers[-1]
            n = store.width - 1
            assert top_words(store, layer, n, k=k, min_threshold=t,
                             chunk_mb=chunk_mb) == table.get(layer, n)


@settings(max_examples=25, deadline=None)
@given(corpora())
def test_top_neurons_equal_the_formula(corpus):
    sents, acts, layers, dtype = corpus
    words = [w for s in sents for w in s]
    word = words[0]
    values = stored_values(acts, dtype)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_store(Path(tmp) / "s.h5", sents, acts, layers=layers, dtype=dtype)
        with nh.open_store(path) as store:
            expected = []
            for pos, layer in enumerate(store.layers):
                st_ = store.stats(layer)
                for n in range(store.width):
                    sigma = math.sqrt(st_["M2"][n] / st_["count"][n])
                    scores = dict(naive_scores(words, values[:, pos, n], st_["mean"][n], sigma,
                                               st_["min"][n], st_["max"][n]))
                    if scores.get(word, 0) > 0:
                        expected.append((layer, n, scores[word]))
            expected.sort(key=lambda x: (-x[2], x[0], x[1]))
            got = word_neurons(store, word, k=None)
            assert [(g.layer, g.neuron) for g in got] == [(e[0], e[1]) for e in expected]
            assert np.allclose([g.score for g in got], [e[2] for e in expected], atol=1e-6)
            assert word_neurons(store, word, k=2) == got[:2]


def test_realistic_store_matches_the_formula(tmp_path):
    sents, acts = random_corpus(1, n_sentences=60, width=16)
    path = write_store(tmp_path / "s.h5", sents, acts, dtype="float16")
    words = [w for s in sents for w in s]
    values = stored_values(acts, "float16")
    with nh.open_store(path) as store:
        table = top_words_all(store, k=5, chunk_mb=0.001, block_mb=0.002)
        for layer in store.layers:
            st_ = store.stats(layer)
            for n in range(16):
                sigma = math.sqrt(st_["M2"][n] / st_["count"][n])
                expected = naive_top_words(words, values[:, layer, n], st_["mean"][n], sigma,
                                           st_["min"][n], st_["max"][n], 5, 0.1)
                assert_same_ranking(table.get(layer, n), expected)
                assert len(expected) == 5


def test_ties_are_broken_by_first_occurrence(tmp_path):
    # "b" and "a" get the same |a - mu|, "b" occurs first; "c" sits at the mean
    sents = [["b", "c"], ["a", "c"]]
    acts = [np.array([[[2.0]], [[0.0]]]), np.array([[[-2.0]], [[0.0]]])]
    path = write_store(tmp_path / "s.h5", sents, acts)
    assert top_words(path, 0, 0, min_threshold=0.0) == [("b", 1.0), ("a", 1.0)]
    sents = [["a", "c"], ["b", "c"]]
    path = write_store(tmp_path / "t.h5", sents, acts)
    assert top_words(path, 0, 0, min_threshold=0.0) == [("a", 1.0), ("b", 1.0)]


def test_threshold_is_strict_and_k_none_keeps_all(tmp_path):
    # mean 0, |a| per type: x 10, y 1 (score 0.1, not > 0.1), z 5
    sents = [["x", "y", "z", "x", "y", "z"]]
    acts = [np.array([10.0, 1.0, 5.0, -10.0, -1.0, -5.0]).reshape(6, 1, 1)]
    path = write_store(tmp_path / "s.h5", sents, acts)
    assert top_words(path, 0, 0, k=None) == [("x", 1.0), ("z", 0.5)]
    assert top_words(path, 0, 0, k=None, min_threshold=0.0) == [("x", 1.0), ("z", 0.5),
                                                                 ("y", 0.1)]
    assert top_words(path, 0, 0, k=1) == [("x", 1.0)]


def test_constant_neuron_has_no_words_and_no_nan(tmp_path, recwarn):
    sents = [["a", "b", "a"]]
    acts = [np.stack([np.full((3, 1), 0.1), np.array([[1.0], [2.0], [3.0]])], axis=2)]
    path = write_store(tmp_path / "s.h5", sents, acts)
    assert top_words(path, 0, 0) == []
    table = top_words_all(path)
    assert table.get(0, 0) == []
    assert table.get(0, 1) == [("a", 1.0)]  # b sits at the mean: score 0
    assert not any(issubclass(w.category, RuntimeWarning) for w in recwarn)
    assert table.to_records()[0] == {"layer": 0, "neuron": 0, "words": []}


def test_table_exports(tmp_path):
    sents, acts = random_corpus(2, n_sentences=10, width=3, n_layers=1)
    path = write_store(tmp_path / "s.h5", sents, acts)
    table = top_words_all(path, k=2, layers=0)
    rec = table.to_records()
    assert [r["neuron"] for r in rec] == [0, 1, 2]
    assert all(len(r["words"]) == 2 and r["words"][0][1] == 1.0 for r in rec)
    text = table.to_csv()
    lines = text.splitlines()
    assert lines[0] == "layer,neuron,rank,word,score" and len(lines) == 7
    table.to_csv(tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text(encoding="utf-8") == text
    assert [tw.words for tw in table] == [[tuple(w) for w in r["words"]] for r in rec]


@pytest.mark.parametrize("n_types,width", [(5, 7), (3000, 5), (40, 1), (40, 3)])
def test_segment_sum_methods_agree(tmp_path, n_types, width):
    rng = np.random.default_rng(n_types)
    vocab = [f"t{i}" for i in range(n_types)]
    sents = [[vocab[j] for j in rng.integers(0, n_types, 50)] for _ in range(40)]
    acts = [rng.standard_normal((50, 1, width)).astype(np.float32) for _ in sents]
    path = write_store(tmp_path / "s.h5", sents, acts)
    with nh.open_store(path) as store:
        mu = store.stats(0)["mean"]
        x = store.rows(0, 0, store.num_words).astype(np.float64)
        ref = np.zeros((len(store.vocab), width))
        np.add.at(ref, store.word_ids, np.abs(x - mu))
        for method in ("inplace", "sparse", "bincount"):
            got = dev_sums(store, 0, 0, width, mu, chunk_mb=0.01, method=method)
            np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
        part = dev_sums(store, 0, 1, width, mu[1:]) if width > 1 else None
        if part is not None:
            np.testing.assert_allclose(part, ref[:, 1:], rtol=1e-12)
        # the default kernel adds rows in corpus order: chunking never changes a bit
        whole = dev_sums(store, 0, 0, width, mu)
        assert np.array_equal(whole, dev_sums(store, 0, 0, width, mu, chunk_mb=0.0002))
        naive = np.zeros_like(whole)
        for row, t in enumerate(store.word_ids):  # sequential float64 sums, as the kernel
            naive[t] += np.abs(x[row] - mu)
        assert np.array_equal(whole, naive)


def test_threads_and_chunks_give_identical_tables(tmp_path):
    sents, acts = random_corpus(4, n_sentences=80, n_types=400, width=12, n_layers=3)
    path = write_store(tmp_path / "s.h5", sents, acts, dtype="float16")
    ref = top_words_all(path, threads=1)
    for kwargs in ({"threads": 3}, {"threads": 2, "chunk_mb": 0.001, "block_mb": 0.01}):
        other = top_words_all(path, **kwargs)
        assert np.array_equal(ref.types, other.types)
        assert np.array_equal(ref.scores, other.scores, equal_nan=True)
