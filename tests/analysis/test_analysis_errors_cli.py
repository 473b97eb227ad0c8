"""Bad input gives clear errors (API) and one line + exit 2 (CLI); CLI output formats; demo;
analysis never imports torch."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import numpy as np
import pytest

from neuroheat.analysis import (
    neuron_stats,
    top_contexts,
    top_words,
    top_words_all,
    word_neurons,
)
from neuroheat.cli import main
from neuroheat.demo.report import demo_report
from neuroheat.errors import IncompleteStoreError, InputError, StoreError
from neuroheat.store import StoreWriter, write_store
from tests.helpers.stores import random_corpus


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    sents, acts = random_corpus(5, n_sentences=20, width=6, n_layers=2)
    return write_store(tmp_path_factory.mktemp("cli") / "s.h5", sents, acts, layers=[0, 4])


@pytest.mark.parametrize("call,match", [
    (lambda p: top_words(p, 2, 0), r"layer 2 is not in this store; stored layers: 0, 4"),
    (lambda p: top_words(p, 4, 6), r"neuron 6 is out of range: valid neurons are 0\.\.5"),
    (lambda p: top_words(p, 4, -1), r"valid neurons are 0\.\.5"),
    (lambda p: top_words_all(p, layers=[0, 3]), r"layer 3 .* stored layers: 0, 4"),
    (lambda p: top_contexts(p, 0, 99), r"neuron 99 is out of range"),
    (lambda p: neuron_stats(p, layers=7), r"layer 7 is not in this store"),
    (lambda p: word_neurons(p, "W3"), r"'W3' does not occur .* close matches: 'w3'"),
    (lambda p: top_words(p, 0, 0, k=0), r"k must be a positive integer"),
    (lambda p: top_words(p, 0, 0, min_threshold=1.5), r"min_threshold must be in \[0, 1\)"),
    (lambda p: top_contexts(p, 0, 0, k=-2), r"k must be a positive integer"),
    (lambda p: top_words_all(p, workers=-1), r"workers must be an integer >= 0"),
    (lambda p: top_words(42, 0, 0), r"expected a store, a store path"),
])
def test_bad_input_names_the_problem(path, call, match):
    with pytest.raises(InputError, match=match):
        call(path)


def test_empty_incomplete_and_foreign_files(tmp_path):
    empty = write_store(tmp_path / "empty.h5", [[]], [np.zeros((0, 1, 4))])
    with pytest.raises(StoreError, match="empty"):
        top_words(empty, 0, 0)
    with pytest.raises(StoreError, match="empty"):
        neuron_stats(empty)
    writer = StoreWriter.create(tmp_path / "part.h5", [["a", "b"]], layers=[0], width=3)
    writer.write(0, 0, np.ones((2, 3), np.float16))
    writer.close()
    with pytest.raises(IncompleteStoreError, match="incomplete"):
        top_words_all(tmp_path / "part.h5")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(StoreError):
        top_words(tmp_path / "junk.h5", 0, 0)
    with pytest.raises(StoreError, match="no store matches"):
        top_words(str(tmp_path / "nothing-*.h5"), 0, 0)


def _cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv,match", [
    (["top-words", "{p}", "--layer", "1", "--neuron", "0"], "layer 1 is not in this store"),
    (["top-words", "{p}", "--layer", "4", "--neuron", "60"], "valid neurons are 0..5"),
    (["top-words", "{p}"], "give --layer L --neuron N"),
    (["top-words", "{p}", "--all", "--neuron", "2"], "drop --neuron"),
    (["top-words", "{p}", "--all", "--chunk-mb", "0"], "--chunk-mb must be a positive"),
    (["top-neurons", "{p}", "nope"], "'nope' does not occur"),
    (["contexts", "{p}", "--layer", "9", "--neuron", "0"], "stored layers: 0, 4"),
    (["stats", "{p}", "--layer", "3"], "layer 3 is not in this store"),
    (["stats", "{d}/missing.h5"], "does not exist"),
])
def test_cli_errors_are_one_line_exit_2(path, capsys, argv, match):
    argv = [a.format(p=path, d=path.parent) for a in argv]
    code, out, err = _cli(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("neuroheat: error: ") and match in err


def test_cli_top_words_formats(path, capsys):
    code, out, _ = _cli(capsys, "top-words", path, "--all", "--json", "-k", "3")
    records = json.loads(out)
    assert code == 0 and len(records) == 12
    assert records[7]["layer"] == 4 and records[7]["neuron"] == 1
    assert records == top_words_all(path, k=3).to_records()
    code, out, _ = _cli(capsys, "top-words", path, "--layer", "4", "--neuron", "2", "--json",
                        "-k", "0", "--min-threshold", "0.5")
    assert json.loads(out) == [{"layer": 4, "neuron": 2, "words": [
        [w, s] for w, s in top_words(path, 4, 2, k=None, min_threshold=0.5)]}]
    code, out, _ = _cli(capsys, "top-words", path, "--all", "--layer", "0", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["layer"] for r in rows} == {"0"} and rows[0]["rank"] == "1"
    code, out, _ = _cli(capsys, "top-words", path, "--layer", "0", "--neuron", "0", "-k", "2")
    assert out.startswith("layer 0 neuron 0: ") and out.count("(") == 2


def test_cli_other_commands(path, capsys):
    code, out, _ = _cli(capsys, "top-neurons", path, "w3", "-k", "4", "--json")
    assert code == 0
    assert json.loads(out) == [n._asdict() for n in word_neurons(path, "w3", k=4)]
    code, out, _ = _cli(capsys, "contexts", path, "--layer", "4", "--neuron", "1", "-k", "3",
                        "--json", "--lowest")
    assert json.loads(out) == [c.to_dict() for c in top_contexts(path, 4, 1, k=3, lowest=True)]
    code, out, _ = _cli(capsys, "contexts", path, "--layer", "4", "--neuron", "1", "-k", "2")
    assert out.count("[[") == 2
    code, out, _ = _cli(capsys, "stats", path, "--layer", "4", "--csv", "--threshold", "0")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 6 and 0 <= float(rows[0]["frac_above"]) <= 1
    code, out, _ = _cli(capsys, "stats", path, "--json")
    assert len(json.loads(out)) == 12
    code, out, _ = _cli(capsys, "stats", path)
    assert code == 0 and out.splitlines()[0].split() == ["layer", "neuron", "count", "mean",
                                                        "std", "min", "max"]


def test_cli_accepts_several_shards(tmp_path, capsys):
    from tests.helpers.stores import write_shards

    sents, acts = random_corpus(9, n_sentences=12, width=3, n_layers=1)
    shards = write_shards(tmp_path, sents, acts, [5])
    code, out, _ = _cli(capsys, "top-words", *shards, "--all", "--json", "--workers", "2")
    assert code == 0 and json.loads(out) == top_words_all(shards).to_records()


def test_demo_report(path, tmp_path):
    report = demo_report(path, tmp_path / "out", k=4, n_neurons=2)
    rows = list(csv.DictReader(open(report["top_words_csv"], encoding="utf-8")))
    assert {(r["layer"], r["neuron"]) for r in rows} == {(str(l_), str(n)) for l_ in (0, 4)
                                                         for n in range(6)}
    assert report["neuron_stats_csv"].exists()
    assert len(report["neurons"]) == 2 and {p["layer"] for p in report["neurons"]} == {0, 4}
    assert "layer" in report["text"] and str(report["top_words_csv"]) in report["text"]


def test_pick_neurons_prefers_frequent_top_words():
    from neuroheat.analysis.selectivity import pick_neurons
    from neuroheat.analysis.top_words import TopWordsTable

    table = TopWordsTable(np.array([1, 2, 3]), np.array([0, 0, 0]),
                          np.array([[0, 1], [1, 0], [1, 0]]),
                          np.array([[1.0, 0.2], [1.0, 0.5], [1.0, 0.6]]), ["rare", "often"],
                          2, 0.1)
    assert pick_neurons(table, 2) == [0, 1]
    assert pick_neurons(table, 2, counts=np.array([1, 9])) == [1, 2]


def test_analysis_does_not_import_torch(path):
    code = ("import sys, neuroheat.analysis as a; a.top_words_all(sys.argv[1]); "
            "import neuroheat.cli.cmd_top_words, neuroheat.cli.cmd_stats; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True)
