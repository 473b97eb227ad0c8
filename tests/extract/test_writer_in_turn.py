"""Extraction that writes each batch in the calling thread (CPU, every core in torch's pool)
gives the same store as the overlapped writer thread, and keeps finished batches on a failure."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import h5py
import numpy as np
import pytest

import neuroheat as nh
from neuroheat.extract import pipeline, runner
from neuroheat.extract.overlap import writer_beside


def _corpus(path: Path, n: int = 200) -> Path:
    rng = np.random.default_rng(1)
    vocab = "the quick brown fox jumps over lazy dog neuron words cats run 1234".split()
    path.write_text("\n".join(" ".join(rng.choice(vocab, size=rng.integers(1, 20)))
                              for _ in range(n)) + "\n", encoding="utf-8")
    return path


def _contents(path: Path) -> dict[str, np.ndarray]:
    with h5py.File(path, "r") as f:
        out = {k: f["activations"][k][...] for k in f["activations"]}
        out.update({f"stats/{k}": f["stats"][k][...] for k in f["stats"]})
        return out


def test_writer_beside_the_model_only_with_a_free_core():
    import torch

    assert writer_beside(torch.device("cuda")) is True
    cores, threads = len(os.sched_getaffinity(0)), torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert writer_beside(torch.device("cpu")) is (cores > 1)
        torch.set_num_threads(cores)
        assert writer_beside("cpu") is False
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("beside", [True, False])
def test_same_store_in_turn_and_overlapped(tiny_bert, tmp_path, monkeypatch, beside):
    corpus = _corpus(tmp_path / "corpus.txt")
    monkeypatch.setattr(runner, "writer_beside", lambda device: True)
    ref = nh.extract_activations(tiny_bert, corpus, tmp_path / "ref.h5", batch_tokens=64,
                                 quiet=True)
    monkeypatch.setattr(runner, "writer_beside", lambda device: beside)
    got = nh.extract_activations(tiny_bert, corpus, tmp_path / "got.h5", batch_tokens=64,
                                 quiet=True)
    a, b = _contents(ref), _contents(got)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_in_turn_failure_keeps_finished_batches(tiny_bert, tmp_path, monkeypatch, caplog):
    corpus = _corpus(tmp_path / "corpus.txt")
    ref = nh.extract_activations(tiny_bert, corpus, tmp_path / "ref.h5", batch_tokens=64,
                                 quiet=True)
    monkeypatch.setattr(runner, "writer_beside", lambda device: False)
    real_run, calls = pipeline.UnitRunner.run, []

    def interrupted(self, unit):
        calls.append(unit)
        # written in turn: no writer thread runs beside the model
        assert not [t for t in threading.enumerate() if t.name.startswith("neuroheat-")]
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real_run(self, unit)

    monkeypatch.setattr(pipeline.UnitRunner, "run", interrupted)
    out = tmp_path / "int.h5"
    with pytest.raises(KeyboardInterrupt), caplog.at_level("WARNING"):
        nh.extract_activations(tiny_bert, corpus, out, batch_tokens=64, quiet=True,
                               checkpoint_seconds=3600)
    assert "--resume" in caplog.text
    with np.load(str(out) + ".progress.npz") as state:
        assert int(state["units_done"]) == 3
    monkeypatch.setattr(pipeline.UnitRunner, "run", real_run)
    nh.extract_activations(tiny_bert, corpus, out, batch_tokens=64, resume=True, quiet=True)
    a, b = _contents(ref), _contents(out)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
