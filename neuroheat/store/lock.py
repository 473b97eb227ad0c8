"""One writer per store: an exclusive lock held by an extraction (or merge) for its whole life.

The lock is ``flock`` on a sidecar file ``<store>.lock`` (not on the store itself: HDF5 takes
its own ``flock`` on the store whenever it opens it, and the two would collide). The file
names the holder (host, pid, start time), so a second writer is refused at once with one line
saying who holds it. The kernel releases the lock when its process dies, however it dies, so a
lock file left behind by a killed run never blocks ``--resume``: only a *live* holder does.

The holder removes the file before unlocking; an acquirer that locks a file which has just
been removed (its inode no longer is the one at the path) retries, so two processes can never
both believe they hold the lock.

Example:
    >>> with StoreLock("acts.h5"):           # doctest: +SKIP
    ...     ...                              # create, fill and finalize acts.h5
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import time
from pathlib import Path
from types import TracebackType

from neuroheat.errors import StoreLockedError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock, said once
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

LOCK_SUFFIX = ".lock"
_NO_LOCKING = (errno.ENOLCK, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL)


def lock_path(store: str | os.PathLike) -> Path:
    """The lock file of ``store``.

    Example:
        >>> lock_path("out/acts.h5").name
        'acts.h5.lock'
    """
    return Path(str(store) + LOCK_SUFFIX)


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
        return f"process {int(info['pid'])} on host {info['host']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


class StoreLock:
    """Exclusive, non-blocking lock on the output ``store`` (and its progress file).

    Raises :class:`~neuroheat.errors.StoreLockedError` naming the holder when another live
    process holds it. Use as a context manager, or call :meth:`acquire` and :meth:`release`.
    """

    def __init__(self, store: str | os.PathLike):
        self.store = Path(store)
        self.path = lock_path(store)
        self._fd: int | None = None

    def acquire(self) -> StoreLock:
        """Take the lock now or raise StoreLockedError; returns self."""
        if fcntl is None:  # pragma: no cover
            log.warning("no file locking on this platform: make sure one process writes %s",
                        self.store)
            return self
        for _ in range(100):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise StoreLockedError(
                    f"{self.store} is being written by {_holder(self.path)} (lock "
                    f"{self.path}); wait for it to finish or stop it, then run again") from None
            except OSError as exc:
                if exc.errno not in _NO_LOCKING:
                    os.close(fd)
                    raise
                # e.g. Lustre mounted without -o flock: refusing would forbid every run there
                log.warning("%s: this file system does not support file locks (%s); make sure "
                            "only one process writes %s", self.path, exc.strerror, self.store)
                self._fd = fd
                return self
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                info = {"host": socket.gethostname(), "pid": os.getpid(), "since": time.time()}
                os.ftruncate(fd, 0)
                os.pwrite(fd, json.dumps(info).encode(), 0)
                self._fd = fd
                return self
            os.close(fd)  # the previous holder removed this file: lock the new one
        raise StoreLockedError(f"could not lock {self.path}: it keeps being replaced")

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def release(self) -> None:
        """Remove the lock file and unlock (no-op when not held)."""
        if self._fd is None:
            return
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        os.close(self._fd)  # closing the descriptor releases the flock
        self._fd = None

    def __enter__(self) -> StoreLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
