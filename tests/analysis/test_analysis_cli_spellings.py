"""CLI spellings of the analysis commands: --layers SPEC (old --layer spellings deprecated),
--json everywhere a table is printed, several stores and globs, --quiet."""

from __future__ import annotations

import csv
import io
import json
import logging

import pytest

from neuroheat.analysis import (
    NeuronScores,
    neuron_stats,
    top_contexts,
    top_words_all,
    word_neurons,
)
from neuroheat.cli import main
from neuroheat.store import open_store, write_store
from tests.helpers.stores import random_corpus, write_shards


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    sents, acts = random_corpus(5, n_sentences=20, width=3, n_layers=3)
    return write_store(tmp_path_factory.mktemp("spell") / "s.h5", sents, acts, layers=[0, 4, 5])


@pytest.fixture(autouse=True)
def _restore_log_level():
    """--quiet lowers the neuroheat logger for the process; put it back for other tests."""
    logger = logging.getLogger("neuroheat")
    level = logger.level
    yield
    logger.setLevel(level)


def _cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys, *argv):
    code, out, _ = _cli(capsys, *argv)
    assert code == 0
    return json.loads(out)


def test_layers_spec_on_top_words_top_neurons_and_stats(path, capsys):
    expect = top_words_all(path, k=3, layers=[4, 5]).to_records()
    assert _json(capsys, "top-words", path, "--layers", "4-5", "--json", "-k", "3") == expect
    assert _json(capsys, "top-words", path, "--all", "--layers", "4,5", "--json", "-k",
                 "3") == expect
    assert _json(capsys, "top-words", path, "--layers", "all", "--json") == \
        top_words_all(path).to_records()
    assert _json(capsys, "top-neurons", path, "w3", "--layers", "0,5", "--json") == \
        word_neurons(path, "w3", layers=[0, 5]).to_records()
    assert _json(capsys, "stats", path, "--layers", "4", "--json") == \
        neuron_stats(path, layers=[4]).to_records()


def test_old_layer_spellings_still_work_with_a_deprecation_warning(path, capsys):
    with pytest.warns(DeprecationWarning, match="--all --layer L is deprecated.*--layers L"):
        old = _json(capsys, "top-words", path, "--all", "--layer", "4", "--json")
    assert old == top_words_all(path, layers=[4]).to_records()
    with pytest.warns(DeprecationWarning, match="--layer is deprecated.*--layers SPEC"):
        old = _json(capsys, "stats", path, "--layer", "0", "--layer", "5", "--json")
    assert old == neuron_stats(path, layers=[0, 5]).to_records()
    with pytest.warns(DeprecationWarning, match="--layer is deprecated"):
        old = _json(capsys, "top-neurons", path, "w3", "--layer", "4", "--json")
    assert old == word_neurons(path, "w3", layers=[4]).to_records()


def test_bad_layer_specs_are_one_line_errors(path, capsys):
    for argv in (["top-words", path, "--layers", "4-x"], ["stats", path, "--layers", "7"],
                 ["top-words", path, "--layers", "4", "--neuron", "1"]):
        code, out, err = _cli(capsys, *argv)
        assert code == 2 and out == "" and err.count("\n") == 1, err


def test_json_and_csv_on_every_table_command(path, tmp_path, capsys):
    assert _json(capsys, "contexts", path, "--layer", "4", "--neuron", "2", "-k", "3",
                 "--json") == top_contexts(path, 4, 2, k=3).to_records()
    code, out, _ = _cli(capsys, "contexts", path, "--layer", "4", "--neuron", "2", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 10 and json.loads(rows[0]["words"])
    code, out, _ = _cli(capsys, "top-neurons", path, "w3", "-k", "2", "--csv")
    assert out.splitlines()[0] == "layer,neuron,score" and len(out.splitlines()) == 3
    assert isinstance(word_neurons(path, "w3"), NeuronScores)
    sents, acts = random_corpus(6, n_sentences=8, width=3, n_layers=1)
    shards = write_shards(tmp_path, sents, acts, [3])
    merged = _json(capsys, "merge", tmp_path / "m.h5", tmp_path / "acts-shard*of2.h5", "--json")
    assert merged["output"] == str(tmp_path / "m.h5") and merged["virtual"] is False
    assert merged["shards"] == [str(p) for p in shards]
    with open_store(tmp_path / "m.h5") as store:
        assert merged["sentences"] == store.num_sentences == 8
    info = _json(capsys, "info", tmp_path / "m.h5", "--json")
    assert info["sentences"] == 8


def test_several_stores_globs_and_quiet(path, tmp_path, capsys):
    sents, acts = random_corpus(8, n_sentences=10, width=3, n_layers=2)
    shards = write_shards(tmp_path, sents, acts, [4])
    glob = str(tmp_path / "acts-shard*of2.h5")
    expect = top_words_all(shards, k=2).to_records()
    assert _json(capsys, "top-words", glob, "--all", "-k", "2", "--json", "--quiet") == expect
    assert _json(capsys, "top-words", *shards, "--all", "-k", "2", "--json",
                 "--threads", "2") == expect
    assert _json(capsys, "stats", glob, "--json", "--quiet") == neuron_stats(shards).to_records()
    assert _json(capsys, "top-neurons", glob, "w1", "--json", "--quiet") == \
        word_neurons(shards, "w1").to_records()
    out = tmp_path / "x.hdf5"
    code, printed, _ = _cli(capsys, "export", "--format", "neurox", *shards, out,
                            "--layers", "1")
    assert code == 0 and printed.strip() == str(out)
    code, _, _ = _cli(capsys, "convert", out, tmp_path / "back.h5", "--layers", "1")
    with open_store(tmp_path / "back.h5") as back, open_store(shards) as sh:
        assert back.layers == [1] and back.all_words() == sh.all_words()
        assert back.rows(1, 0, back.num_words).tobytes() == sh.rows(1, 0, sh.num_words).tobytes()
    code, _, _ = _cli(capsys, "export", "--format", "neurox", glob, tmp_path / "y.json",
                      "--force")
    assert code == 0 and (tmp_path / "y.json").exists()
