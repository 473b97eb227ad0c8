"""Token-unit records in the store: token ids, context sources, and stores without them."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

import neuroheat as nh
from neuroheat.cli import main
from neuroheat.errors import StoreError
from neuroheat.store.records import source_of, write_records
from neuroheat.store.writer import write_store


def test_a_store_without_records_has_word_units(tmp_path):
    path = write_store(tmp_path / "s.h5", [["a", "b"], ["c"]], [np.ones((2, 1, 3)),
                                                               np.zeros((1, 1, 3))])
    with nh.open_store(path) as s:
        assert s.units == "words" and s.token_ids is None
        with pytest.raises(StoreError, match="word units"):
            s.source(0)


def test_records_round_trip_and_keep_a_complete_store_complete(tmp_path):
    path = write_store(tmp_path / "s.h5", [["<s>", "a", " b"], ["<s>", "c"]],
                       [np.ones((3, 1, 2)), np.zeros((2, 1, 2))])
    write_records(path, np.array([1, 5, 6, 1, 7]), np.array([[0, 0, 0, 3], [0, 3, 1, 2]]))
    with h5py.File(path, "r") as f:
        assert bool(f.attrs["complete"])
    with nh.open_store(path) as s:
        assert s.token_ids.tolist() == [1, 5, 6, 1, 7]
        assert s.source(0) == {"row": 0, "start": 0, "end": 3}
        assert s.source(-1) == {"row": 0, "start": 3, "end": 2, "end_row": 1}
    with pytest.raises(StoreError, match="token ids"):
        write_records(path, np.array([1]), np.zeros((2, 4)))


def test_source_of_a_word_store_is_an_error():
    with pytest.raises(StoreError):
        source_of(None, 0)


def test_a_store_from_before_corpus_settings_resumes(tiny_models, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c\nd e\n")
    out = tmp_path / "s.h5"
    args = ["extract", str(tiny_models["gpt2"]), str(corpus), str(out), "--device", "cpu",
            "--quiet"]
    assert main(args) == 0
    with h5py.File(out, "r+") as f:   # as an older neuroheat wrote it: no corpus settings
        for key in ("units", "text_field", "context_tokens", "concatenate", "corpus_format",
                    "corpus_files", "corpus_file_sha256"):
            del f.attrs[key]
        f.attrs["complete"] = False
    assert main([*args, "--resume"]) == 0
    with nh.open_store(out) as s:
        assert s.complete and s.units == "words" and s.num_sentences == 2
