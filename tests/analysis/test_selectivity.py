"""analysis.selectivity: the one selectivity of a neuron (top-word score gap), which the
dashboard shows and the demo picks neurons by."""

from __future__ import annotations

import numpy as np

from neuroheat.analysis import top_words_all
from neuroheat.analysis.selectivity import pick_neurons, selectivity
from neuroheat.analysis.tables import TopWordsTable
from neuroheat.report.data import collect
from neuroheat.store import write_store
from tests.helpers.stores import random_corpus


def test_selectivity_is_the_top_word_gap_shown_and_picked(tmp_path):
    sents, acts = random_corpus(5, n_sentences=20, width=6, n_layers=3)
    write_store(tmp_path / "a.h5", sents, acts)
    table = top_words_all(tmp_path / "a.h5", k=3)
    sel = selectivity(table)
    first, second = np.nan_to_num(table.scores[:, 0]), np.nan_to_num(table.scores[:, 1])
    np.testing.assert_allclose(sel, first - second, atol=1e-12)
    assert sel.dtype == np.float64 and (sel >= 0).all()
    # the dashboard's "sel" column is this selectivity
    data = collect(tmp_path / "a.h5", k=2, window=1, top_words=3)
    for layer in data.layers:
        rows = [int(np.flatnonzero((table.layer == layer) & (table.neuron == n))[0])
                for n in range(data.width)]
        np.testing.assert_array_equal(data.column(layer, "sel"), sel[rows])
    # the demo's pick: the most selective neuron of each layer, deeper layers first on ties
    picked = pick_neurons(table, n=3)
    assert len({int(table.layer[i]) for i in picked}) == len(picked) == 3
    for i in picked:
        same_layer = table.layer == table.layer[i]
        assert np.round(sel[i], 9) == np.round(sel[same_layer], 9).max()


def test_one_word_and_no_word():
    types = np.array([[0, 1], [2, -1], [-1, -1]])
    scores = np.array([[0.9, 0.4], [0.7, np.nan], [np.nan, np.nan]])
    table = TopWordsTable(np.array([0, 1, 2]), np.array([0, 0, 0]), types, scores,
                          ["a", "b", "c"], 2, 0.1)
    np.testing.assert_allclose(selectivity(table), [0.5, 0.7, 0.0])
    assert pick_neurons(table, n=3) == [1, 0]  # a neuron without words is never picked
    empty = TopWordsTable(np.array([0]), np.array([0]), np.zeros((1, 0), np.int64),
                          np.zeros((1, 0)), [], 0, 0.1)
    np.testing.assert_array_equal(selectivity(empty), [0.0])
