"""One writer per store: a second extraction to a live store is refused at once, with one line.

The scenario of issue 12: an extraction is running when a second process extracts another
corpus to the same path with --overwrite (or plain, or --resume). Before, both exited 0 and the
file held the second corpus's words with the first run's statistics, marked complete.
The lock itself and the writer's identity check are tested in tests/store/test_lock.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

import neuroheat as nh
from neuroheat.store.lock import lock_path

REPO = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")


def _corpus(path: Path, n: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    vocab = "the quick brown fox jumps over lazy dog neuron words cats run 1234 & < >".split()
    path.write_text("\n".join(" ".join(rng.choice(vocab, size=rng.integers(1, 25)))
                              for _ in range(n)) + "\n", encoding="utf-8")
    return path


def _extract(model: Path, corpus: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "neuroheat", "extract", str(model), str(corpus), str(out),
         "--device", "cpu", "--batch-tokens", "512", "--quiet", *extra],
        env=ENV, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _dump(path: Path) -> dict[str, np.ndarray]:
    with h5py.File(path, "r") as f:
        out = {k: f["activations"][k][...] for k in f["activations"]}
        out.update({f"stats/{k}": f["stats"][k][...] for k in f["stats"]})
        out["words"] = f["words"].asstr()[...]
        out["complete"] = np.asarray(f.attrs["complete"])
    return out


def test_second_writer_is_refused_and_the_first_completes(tiny_bert, tmp_path):
    big = _corpus(tmp_path / "big.txt", 300)
    small = _corpus(tmp_path / "small.txt", 100, seed=1)
    out = tmp_path / "acts.h5"
    first = _extract(tiny_bert, big, out)
    deadline = time.monotonic() + 120
    while not (out.exists() and lock_path(out).exists()) and time.monotonic() < deadline:
        assert first.poll() is None, first.communicate()
        time.sleep(0.005)
    if first.poll() is not None:
        pytest.fail(f"the first writer finished before it could be paused: {first.communicate()}")
    first.send_signal(signal.SIGSTOP)  # paused mid-run (still alive, still locking), so the
    try:                               # others surely meet a live writer however fast it is
        seconds = [_extract(tiny_bert, small, out, *flags)
                   for flags in (["--overwrite"], [], ["--resume"])]
        results = [p.communicate(timeout=300) for p in seconds]
    finally:
        first.send_signal(signal.SIGCONT)
    for p, (_, err) in zip(seconds, results, strict=True):
        assert p.returncode == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in err, err
        assert str(out) in lines[0] and f"process {first.pid} on host" in lines[0], lines[0]
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert not lock_path(out).exists()
    reference = nh.extract_activations(tiny_bert, big, tmp_path / "ref.h5", device="cpu",
                                       batch_tokens=512, quiet=True)
    got, ref = _dump(out), _dump(reference)
    for key in ref:
        np.testing.assert_array_equal(got[key], ref[key], err_msg=key)


def test_lock_of_a_killed_run_does_not_block_resume(tiny_bert, tmp_path):
    corpus = _corpus(tmp_path / "c.txt", 200)
    out = tmp_path / "acts.h5"
    proc = _extract(tiny_bert, corpus, out)
    deadline = time.monotonic() + 120
    while not out.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if proc.returncode != -signal.SIGKILL:
        pytest.skip("extraction finished before it could be killed")
    assert lock_path(out).exists()  # left behind, naming a dead process
    nh.extract_activations(tiny_bert, corpus, out, device="cpu", batch_tokens=512,
                           resume=True, quiet=True)
    reference = nh.extract_activations(tiny_bert, corpus, tmp_path / "ref.h5", device="cpu",
                                       batch_tokens=512, quiet=True)
    got, ref = _dump(out), _dump(reference)
    for key in ref:
        np.testing.assert_array_equal(got[key], ref[key], err_msg=key)
    assert not lock_path(out).exists()
