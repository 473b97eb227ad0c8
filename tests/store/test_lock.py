"""One writer per store: the output lock (store/lock.py), and the writer's check that the file
it finalizes is still the one it opened (store/writer.py).

Moved from tests/extract/test_writers.py, which keeps the extraction runs that meet a lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from neuroheat.errors import StoreError, StoreLockedError
from neuroheat.store.lock import StoreLock, lock_path
from neuroheat.store.writer import StoreWriter

REPO = Path(__file__).resolve().parents[2]


def test_lock_is_exclusive_between_processes(tmp_path):
    store = tmp_path / "s.h5"
    code = ("import sys, time; from neuroheat.store.lock import StoreLock; "
            "StoreLock(sys.argv[1]).acquire(); print('held', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(store)], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreLockedError, match=f"process {holder.pid} on host"):
            StoreLock(store).acquire()
    finally:
        holder.kill()
        holder.wait()
    with StoreLock(store) as lock:  # the dead holder's lock is free at once
        assert lock.held
    assert not lock_path(store).exists()


def test_finalize_refuses_a_file_replaced_behind_its_back(tmp_path):
    path = tmp_path / "s.h5"
    writer = StoreWriter.create(path, [["a", "b"]], layers=[0], width=2)
    writer.write(0, 0, np.ones((2, 2), np.float16))
    other = StoreWriter.create(tmp_path / "other.h5", [["c"]], layers=[0], width=2)
    other.close()
    os.replace(tmp_path / "other.h5", path)
    from neuroheat.store.stats import RunningStats

    with pytest.raises(StoreError, match="replaced or removed by another process"):
        writer.finalize(RunningStats.empty((1, 2)))
    with h5py.File(path, "r") as f:
        assert not f.attrs["complete"]


def test_a_file_system_without_locks_warns_and_proceeds(tmp_path, monkeypatch, caplog):
    """Injected: flock fails with ENOSYS as on Lustre mounted without -o flock."""
    import errno

    from neuroheat.store import lock as lock_module

    def no_flock(fd, op):
        raise OSError(errno.ENOSYS, "Function not implemented")

    monkeypatch.setattr(lock_module.fcntl, "flock", no_flock)
    with caplog.at_level("WARNING"), StoreLock(tmp_path / "s.h5") as lock:
        assert lock.held
    assert "does not support file locks" in caplog.text
