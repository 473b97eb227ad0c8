"""Every bad input gives a clear error: a ValueError subclass in Python, one line from the CLI."""

from __future__ import annotations

import subprocess
import sys

import h5py
import numpy as np
import pytest

import neuroheat as nh
from neuroheat.cli import main
from neuroheat.errors import CorpusError, InputError, ModelNotFoundError, StoreError


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "neuroheat", *args], capture_output=True,
                          text=True, timeout=300)


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode != 0
    err = proc.stderr.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err


def test_blank_lines_are_kept_as_empty_sentences(tiny_bert, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("first line\n\n   \nlast line\n", encoding="utf-8")
    out = nh.extract_activations(tiny_bert, corpus, tmp_path / "s.h5", quiet=True)
    with nh.open_store(out) as store:
        assert store.num_sentences == 4
        assert [store.words(i) for i in range(4)] == [["first", "line"], [], [], ["last", "line"]]


def test_invalid_utf8_names_the_line(tiny_bert, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_bytes(b"good line\nbad \xff byte\n")
    with pytest.raises(CorpusError, match="line 2 is not valid UTF-8"):
        nh.extract_activations(tiny_bert, corpus, tmp_path / "s.h5", quiet=True)
    proc = cli("extract", str(tiny_bert), str(corpus), str(tmp_path / "s.h5"))
    assert_one_line_error(proc, "line 2", "UTF-8")
    assert not (tmp_path / "s.h5").exists()


def test_nonexistent_model(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b\n")
    with pytest.raises(ModelNotFoundError, match="not available offline"):
        nh.extract_activations("no-such-org/no-such-model", corpus, tmp_path / "s.h5")
    proc = cli("extract", "no-such-org/no-such-model", str(corpus), str(tmp_path / "s.h5"))
    assert_one_line_error(proc, "no-such-org/no-such-model", "offline")
    assert not (tmp_path / "s.h5").exists()


def test_existing_output_is_refused(tiny_bert, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b\n")
    out = tmp_path / "s.h5"
    out.write_bytes(b"precious")
    with pytest.raises(InputError, match="--overwrite"):
        nh.extract_activations(tiny_bert, corpus, out, quiet=True)
    proc = cli("extract", str(tiny_bert), str(corpus), str(out))
    assert_one_line_error(proc, "exists", "--overwrite", "--resume")
    assert out.read_bytes() == b"precious"
    nh.extract_activations(tiny_bert, corpus, out, overwrite=True, quiet=True)
    with nh.open_store(out) as store:
        assert store.words(0) == ["a", "b"]


def test_file_that_is_not_a_store(tmp_path):
    text = tmp_path / "x.h5"
    text.write_text("hello")
    with pytest.raises(StoreError, match="not a readable HDF5"):
        nh.open_store(text)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(StoreError, match="not a neuroheat store"):
        nh.open_store(other)
    assert_one_line_error(cli("info", str(other)), "not a neuroheat store")


def test_truncated_store(tiny_bert, tmp_path):
    out = nh.extract_activations(tiny_bert, ["a b c d e f g"] * 20, tmp_path / "s.h5",
                                 quiet=True)
    data = out.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) - 500])
    with pytest.raises(StoreError, match="truncated|damaged"):
        nh.open_store(cut)
    assert_one_line_error(cli("info", str(cut)), str(cut))


def test_bad_options(tiny_bert, tmp_path):
    with pytest.raises(InputError, match="aggregation"):
        nh.extract_activations(tiny_bert, ["a"], tmp_path / "s.h5", aggregation="max")
    with pytest.raises(InputError, match="layers 0..2"):
        nh.extract_activations(tiny_bert, ["a"], tmp_path / "s.h5", layers=[7], quiet=True)
    with pytest.raises(InputError, match="component"):
        nh.extract_activations(tiny_bert, ["a"], tmp_path / "s.h5", component="attention",
                               quiet=True)
    with pytest.raises(CorpusError):
        nh.extract_activations(tiny_bert, 42, tmp_path / "s.h5")
    assert main(["extract", str(tiny_bert), str(tmp_path / "missing.txt"), "o.h5"]) == 2


def test_cli_extract_and_info(tiny_bert, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("The cat sat .\nA dog ran .\n")
    out = tmp_path / "s.h5"
    proc = cli("extract", str(tiny_bert), str(corpus), str(out), "--quiet", "--layers", "1-2",
               "--dtype", "float32")
    assert proc.returncode == 0, proc.stderr
    proc = cli("info", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    import json

    info = json.loads(proc.stdout)
    assert info["complete"] and info["layers"] == [1, 2] and info["words"] == 8
    assert info["sentences"] == 2 and info["dtype"] == "float32"
