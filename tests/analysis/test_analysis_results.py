"""Table results: to_records / to_csv / to_pandas and save / load round trips (CSV and JSON)."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from neuroheat.analysis import (
    Contexts,
    NeuronScores,
    NeuronStats,
    TableResult,
    TopWordsTable,
    neuron_stats,
    top_contexts,
    top_words_all,
    word_neurons,
)
from neuroheat.errors import InputError
from neuroheat.store import write_store
from tests.helpers.stores import random_corpus


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    sents, acts = random_corpus(11, n_sentences=25, width=5, n_layers=2)
    sents[3] = ["a,b", 'say "hi"', "é 日本"]  # CSV quoting, spaces, non-ASCII
    acts[3] = np.ones((3, 2, 5), np.float32)
    return write_store(tmp_path_factory.mktemp("results") / "s.h5", sents, acts,
                       layers=[0, 2])


def _tables(path):
    return [top_words_all(path, k=3), neuron_stats(path), neuron_stats(path, threshold=0.25),
            top_contexts(path, 2, 1, k=4), word_neurons(path, "w3", k=5)]


def test_every_table_result_shares_the_base(path):
    for table in _tables(path):
        assert isinstance(table, TableResult)
        records = table.to_records()
        assert records and json.loads(json.dumps(records)) == records
        header = table.to_csv().splitlines()[0].split(",")
        assert header == table.csv_header()


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_save_load_round_trip(path, tmp_path, suffix):
    for i, table in enumerate(_tables(path)):
        out = table.save(tmp_path / f"t{i}{suffix}")
        back = type(table).load(out)
        assert type(back) is type(table)
        assert back.to_records() == table.to_records()
        assert back.to_csv() == table.to_csv()
        if suffix == ".json":
            assert back.settings() == table.settings()


def test_loaded_values_are_bit_identical(path, tmp_path):
    stats = neuron_stats(path, threshold=0.25)
    for suffix in (".csv", ".json"):
        back = NeuronStats.load(stats.save(tmp_path / f"s{suffix}"))
        for field in ("layer", "neuron", "count", "mean", "std", "min", "max", "frac_above"):
            a, b = getattr(stats, field), getattr(back, field)
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), field
    table = top_words_all(path, k=None, min_threshold=0.0)
    back = TopWordsTable.load(table.save(tmp_path / "t.json"))
    assert [table.words(i) for i in range(len(table))] == [back.words(i)
                                                            for i in range(len(back))]
    assert back.k is None and back.min_threshold == 0.0
    assert TopWordsTable.load(table.save(tmp_path / "t.csv")).min_threshold is None


def test_list_results_stay_lists(path):
    contexts = top_contexts(path, 0, 3, k=3)
    assert isinstance(contexts, Contexts) and isinstance(contexts, list)
    assert contexts == list(contexts) and contexts.settings() == {"layer": 0, "neuron": 3,
                                                                  "lowest": False}
    scores = word_neurons(path, "w3", k=2)
    assert isinstance(scores, NeuronScores) and scores[0]._asdict() == scores.to_records()[0]


def test_save_refuses_unknown_suffix_and_wrong_type(path, tmp_path):
    stats = neuron_stats(path)
    with pytest.raises(InputError, match=r"\.csv or \.json"):
        stats.save(tmp_path / "stats.pkl")
    stats.save(tmp_path / "stats.json")
    with pytest.raises(InputError, match="does not hold a saved TopWordsTable"):
        TopWordsTable.load(tmp_path / "stats.json")


def test_to_pandas(path, monkeypatch):
    table = top_words_all(path, k=2)
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    with pytest.raises(ImportError, match="pip install pandas"):
        table.to_pandas()
    monkeypatch.undo()
    pytest.importorskip("pandas")
    frame = table.to_pandas()
    assert list(frame.columns) == table.csv_header() and len(frame) == len(list(
        table.csv_rows()))
