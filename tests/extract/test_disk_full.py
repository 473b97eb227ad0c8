"""Full disks: refused up front with one line, or caught later; never a SIGBUS; resumable.

Where the machine lets root mount a small tmpfs, the tests use a real small file system;
the injected-ENOSPC test runs everywhere.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

import neuroheat as nh
from neuroheat.cli import main
from neuroheat.errors import DiskSpaceError, IncompleteStoreError

REPO = Path(__file__).resolve().parents[2]
OPTS = dict(batch_tokens=512, device="cpu", quiet=True)


def _corpus(path: Path, n: int) -> Path:
    rng = np.random.default_rng(0)
    vocab = "the quick brown fox jumps over lazy dog neuron words cats run 1234 & < >".split()
    path.write_text("\n".join(" ".join(rng.choice(vocab, size=rng.integers(1, 25)))
                              for _ in range(n)) + "\n", encoding="utf-8")
    return path


def _dump(path: Path) -> dict[str, bytes]:
    with h5py.File(path, "r") as f:
        out = {k: f["activations"][k][...].tobytes() for k in f["activations"]}
        out.update({f"stats/{k}": f["stats"][k][...].tobytes() for k in f["stats"]})
        out["words"] = f["words"].asstr()[...].tolist()
        out["complete"] = bool(f.attrs["complete"])
    return out


@pytest.fixture
def small_fs(tmp_path):
    """A tmpfs of 1 MiB (``remount(size)`` to grow it); skipped where it cannot be mounted."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    where = tmp_path / "fs"
    where.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
                         capture_output=True, text=True)
    if res.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")

    def remount(size: str) -> None:
        subprocess.run(["mount", "-o", f"remount,size={size}", str(where)], check=True)

    try:
        yield where, remount
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture(scope="module")
def corpus_and_reference(tiny_bert, tmp_path_factory):
    root = tmp_path_factory.mktemp("full")
    corpus = _corpus(root / "c.txt", 400)
    return corpus, nh.extract_activations(tiny_bert, corpus, root / "ref.h5", **OPTS)


def test_too_small_a_disk_is_refused_up_front(tiny_bert, corpus_and_reference, small_fs,
                                             capsys):
    corpus, reference = corpus_and_reference
    where, remount = small_fs
    out = where / "acts.h5"
    argv = ["extract", str(tiny_bert), str(corpus), str(out), "--device", "cpu",
            "--batch-tokens", "512", "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs" in err[0] and "are free" in err[0], err
    assert str(out) in err[0]
    assert sorted(os.listdir(where)) == []  # nothing half-made, no lock left
    remount("16m")  # space freed
    assert main(argv) == 0
    assert _dump(out) == _dump(reference)


SCRIPT = textwrap.dedent("""
    import sys
    import neuroheat as nh
    try:
        nh.extract_activations(sys.argv[1], sys.argv[2], sys.argv[3], batch_tokens=512,
                               device="cpu", checkpoint_seconds=0.02, quiet=True)
    except nh.errors.NeuroheatError as exc:
        sys.stderr.write(f"neuroheat: error: {exc}\\n")
        sys.exit(2)
""")


def test_disk_filled_during_the_run_is_caught_and_resumable(tiny_bert, corpus_and_reference,
                                                            small_fs):
    """The disk fills up after the store was created: rows go to reserved space (no SIGBUS);
    the next checkpoint meets ENOSPC, which is one line, exit 2; --resume then completes."""
    corpus, reference = corpus_and_reference
    where, remount = small_fs
    remount("16m")
    out = where / "acts.h5"
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tiny_bert), str(corpus),
                             str(out)], env=env, cwd=REPO, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not out.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    filler = where / "filler"
    with open(filler, "wb") as fh:  # take every free byte
        st = os.statvfs(where)
        try:
            os.posix_fallocate(fh.fileno(), 0, st.f_bavail * st.f_frsize)
        except OSError:
            pass
    _, err = proc.communicate(timeout=300)
    if proc.returncode == 0:
        pytest.skip("the extraction finished before the disk could be filled")
    assert proc.returncode == 2, (proc.returncode, err)  # not 135 (SIGBUS)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "needs" in lines[0] and "--resume" in lines[0], err
    with pytest.raises(IncompleteStoreError):
        nh.open_store(out)
    filler.unlink()  # space freed
    nh.extract_activations(tiny_bert, corpus, out, resume=True, **OPTS)
    assert _dump(out) == _dump(reference)


def test_injected_enospc_at_a_checkpoint_leaves_a_resumable_store(tiny_bert,
                                                                  corpus_and_reference,
                                                                  tmp_path, monkeypatch):
    """The fallback where no file system can be filled: ENOSPC injected into the second
    checkpoint write (the first one is durable)."""
    corpus, reference = corpus_and_reference
    real, calls = np.savez, []

    def savez(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(np, "savez", savez)
    out = tmp_path / "acts.h5"
    with pytest.raises(DiskSpaceError, match=r"needs [\d,]+ more bytes but [\d,]+ are free"):
        nh.extract_activations(tiny_bert, corpus, out, checkpoint_seconds=0, **OPTS)
    assert not list(tmp_path.glob("*.tmp.npz"))
    monkeypatch.setattr(np, "savez", real)
    with pytest.raises(IncompleteStoreError):
        nh.open_store(out)
    progress = out.with_name(out.name + ".progress.npz")
    assert progress.exists()
    # an --overwrite that cannot get its space keeps the old store resumable
    from neuroheat.store import writer

    monkeypatch.setattr(writer, "free_bytes", lambda directory: 0)
    with pytest.raises(DiskSpaceError, match="needs"):
        nh.extract_activations(tiny_bert, ["other words"], out, overwrite=True, **OPTS)
    monkeypatch.undo()
    assert progress.exists()
    nh.extract_activations(tiny_bert, corpus, out, resume=True, **OPTS)
    assert _dump(out) == _dump(reference)
