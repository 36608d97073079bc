"""An exclusive lock on a file that is read, changed and replaced (``index --merge X -o X``).

Twenty parallel ``index f.ota --merge X -o X`` used to keep 7 of 20 entries: each read
X, added its entry and renamed its own X into place.  Under :func:`exclusive` the
read-merge-write of one process is finished before the next one reads.

The lock is not taken on X itself: the atomic write replaces X by a new file (a new
inode), so a lock on the old one would guard nothing.  It is taken on a lock file
beside it, ``.X.lock`` (POSIX ``fcntl.flock``; Windows ``msvcrt.locking`` on its first
byte).  On POSIX the holder removes the lock file before releasing it, so nothing is
left behind; a waiter that then wins the lock on the removed file sees that the name no
longer leads to its file and starts again.  On Windows an open file cannot be removed,
so the (empty) lock file stays.

Waiting is bounded (:data:`WAIT_SECONDS`): a lock held longer (a stuck process on a
network share) is an exit-2 error naming the option, never a hang.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from ota_action.errors import InputError

WAIT_SECONDS = 300.0
_POLL = (0.005, 0.2)  # first and longest pause between attempts, seconds


def lock_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.lock")


def _try_lock(fd: int) -> bool:
    """Take the lock without waiting; False when another process holds it."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows runners
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover
        import msvcrt

        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


def _still_named(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the open file (a holder may have removed it meanwhile)."""
    if sys.platform == "win32":  # pragma: no cover - never removed there
        return True
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    mine = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)


def _open(path: Path, field: str, target: Path) -> int:
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(path, flags, 0o644)
    except OSError as exc:
        problem = f"cannot be locked: its lock file {path.name} cannot be created ({exc.strerror})"
        raise InputError(problem, field=field, value=str(target)) from None


@contextlib.contextmanager
def exclusive(target: Path, *, field: str, wait: float = WAIT_SECONDS) -> Iterator[None]:
    """Hold the exclusive lock of ``target`` within the block (see the module docstring)."""
    path = lock_path(target)
    deadline = time.monotonic() + wait
    pause = _POLL[0]
    while True:
        fd = _open(path, field, target)
        if _try_lock(fd):
            if _still_named(fd, path):
                break
            _unlock(fd)
        os.close(fd)
        if time.monotonic() > deadline:
            raise InputError(
                f"is locked by another process (its lock file {path.name}) for more than {wait:.0f} s; "
                "nothing was written",
                field=field,
                value=str(target),
            )
        time.sleep(pause)
        pause = min(pause * 2, _POLL[1])
    try:
        yield
    finally:
        if sys.platform != "win32":
            with contextlib.suppress(OSError):
                os.unlink(path)
        _unlock(fd)
        os.close(fd)


__all__ = ["WAIT_SECONDS", "exclusive", "lock_path"]
