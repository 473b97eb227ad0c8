"""A run killed with SIGKILL at any moment, then resumed, equals an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

import neuroheat as nh

SCRIPT = textwrap.dedent("""
    import sys
    import neuroheat as nh
    nh.extract_activations(sys.argv[1], sys.argv[2], sys.argv[3], batch_tokens=64,
                           aggregation="average", checkpoint_seconds=0.05, quiet=True,
                           resume=len(sys.argv) > 4)
""")


def _corpus(path: Path, n: int = 1200) -> Path:
    rng = np.random.default_rng(0)
    vocab = "the quick brown fox jumps over lazy dog neuron words cats run 1234 & < >".split()
    lines = [" ".join(rng.choice(vocab, size=rng.integers(0, 25))) for _ in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _activations(path: Path) -> dict[str, np.ndarray]:
    with h5py.File(path, "r") as f:
        out = {k: f["activations"][k][...] for k in f["activations"]}
        out.update({f"stats/{k}": f["stats"][k][...] for k in f["stats"]})
        out["words"] = f["words"].asstr()[...]
        return out


@pytest.mark.parametrize("delay", [0.0, 0.7])
def test_sigkill_then_resume_is_identical(tiny_bert, tmp_path, delay):
    corpus = _corpus(tmp_path / "corpus.txt")
    reference = nh.extract_activations(tiny_bert, corpus, tmp_path / "ref.h5", batch_tokens=64,
                                       aggregation="average", quiet=True)
    out = tmp_path / "killed.h5"
    progress = Path(str(out) + ".progress.npz")
    env = {**os.environ, "PYTHONPATH": str(Path(nh.__file__).parents[1])}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tiny_bert), str(corpus), str(out)],
                            env=env)
    deadline = time.monotonic() + 120
    while not progress.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if proc.returncode != -signal.SIGKILL:
        pytest.skip("extraction finished before it could be killed")
    with pytest.raises(nh.errors.IncompleteStoreError, match="--resume"):
        nh.open_store(out)
    nh.extract_activations(tiny_bert, corpus, out, batch_tokens=64, aggregation="average",
                           resume=True, quiet=True)
    assert not progress.exists()
    got, ref = _activations(out), _activations(reference)
    assert got.keys() == ref.keys()
    for key in ref:
        np.testing.assert_array_equal(got[key], ref[key], err_msg=key)


def test_resume_of_complete_store_is_a_no_op(tiny_bert, tmp_path):
    out = nh.extract_activations(tiny_bert, ["a b"], tmp_path / "s.h5", quiet=True)
    before = out.read_bytes()
    nh.extract_activations(tiny_bert, ["a b"], out, resume=True, quiet=True)
    assert out.read_bytes() == before


def test_resume_with_other_settings_is_refused(tiny_bert, tmp_path):
    out = nh.extract_activations(tiny_bert, ["a b"], tmp_path / "s.h5", quiet=True)
    with pytest.raises(nh.errors.StoreError, match="aggregation"):
        nh.extract_activations(tiny_bert, ["a b"], out, resume=True, aggregation="first",
                               quiet=True)
    with pytest.raises(nh.errors.StoreError, match="corpus_sha256"):
        nh.extract_activations(tiny_bert, ["a c"], out, resume=True, quiet=True)


def test_interrupt_keeps_finished_batches(tiny_bert, tmp_path, monkeypatch, caplog):
    """Ctrl-C (or any error) mid-run checkpoints every finished batch before re-raising."""
    from neuroheat.extract import pipeline

    corpus = _corpus(tmp_path / "corpus.txt", n=300)
    reference = nh.extract_activations(tiny_bert, corpus, tmp_path / "ref.h5", batch_tokens=64,
                                       quiet=True)
    real_run, calls = pipeline.UnitRunner.run, []

    def interrupted(self, unit):
        calls.append(unit)
        if len(calls) == 6:
            raise KeyboardInterrupt
        return real_run(self, unit)

    monkeypatch.setattr(pipeline.UnitRunner, "run", interrupted)
    out = tmp_path / "int.h5"
    with pytest.raises(KeyboardInterrupt), caplog.at_level("WARNING"):
        nh.extract_activations(tiny_bert, corpus, out, batch_tokens=64, quiet=True,
                               checkpoint_seconds=3600)
    assert "--resume" in caplog.text
    with np.load(str(out) + ".progress.npz") as state:
        assert int(state["units_done"]) == 5
    monkeypatch.setattr(pipeline.UnitRunner, "run", real_run)
    nh.extract_activations(tiny_bert, corpus, out, batch_tokens=64, resume=True, quiet=True)
    got, ref = _activations(out), _activations(reference)
    for key in ref:
        np.testing.assert_array_equal(got[key], ref[key], err_msg=key)


def test_a_store_interrupted_before_plan_parts_still_resumes(tiny_bert, tmp_path, monkeypatch):
    """Stores from before issue 12 have no plan_shards and a checksum of the parsed words."""
    from neuroheat.extract import pipeline
    from neuroheat.extract.corpus import corpus_checksum, read_corpus_file

    corpus = _corpus(tmp_path / "corpus.txt", n=200)
    reference = nh.extract_activations(tiny_bert, corpus, tmp_path / "ref.h5", batch_tokens=64,
                                       quiet=True)
    real_run, calls = pipeline.UnitRunner.run, []

    def interrupted(self, unit):
        calls.append(unit)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real_run(self, unit)

    monkeypatch.setattr(pipeline.UnitRunner, "run", interrupted)
    out = tmp_path / "old.h5"
    with pytest.raises(KeyboardInterrupt):
        nh.extract_activations(tiny_bert, corpus, out, batch_tokens=64, quiet=True)
    monkeypatch.setattr(pipeline.UnitRunner, "run", real_run)
    with h5py.File(out, "r+") as f:  # as an older neuroheat wrote it
        del f.attrs["plan_shards"]
        f.attrs["corpus_sha256"] = corpus_checksum(read_corpus_file(corpus))
    nh.extract_activations(tiny_bert, corpus, out, batch_tokens=64, resume=True, quiet=True)
    got, ref = _activations(out), _activations(reference)
    for key in ref:
        np.testing.assert_array_equal(got[key], ref[key], err_msg=key)
