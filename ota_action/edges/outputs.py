"""Outputs written completely or not at all, and never through a link.

Outputs (:func:`atomic_output`, :func:`write_atomic`): an existing output must be a
regular file (not a device such as ``/dev/null``, a FIFO, a directory or a symlink; a
symlink is never written through nor replaced, even one pointing to a regular file).
``-`` (standard output) is not supported: the summary is printed there.  On Linux the
data goes to an unnamed file (``O_TMPFILE``) in the output's folder, linked in by name
(``linkat`` through ``/proc/self/fd``) only when complete: SIGKILL, a crash or a full
disk mid-write leave nothing.  Elsewhere (and on file systems without ``O_TMPFILE``) it
goes to a short temporary ``.ota-XXXXXXXX.tmp`` beside the output, renamed into place
when complete; SIGTERM, SIGHUP and SIGINT during the write remove it (``docker stop``
sends SIGTERM), and one left by SIGKILL is recognised by its prefix and removed by a
later write to the same directory once it is older than :data:`STALE_AFTER_SECONDS`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import BinaryIO

from ota_action.edges.paths import check_confined, kind, os_problem, refuse_key_material
from ota_action.errors import InputError

TEMP_PREFIX = ".ota-"
TEMP_SUFFIX = ".tmp"
STALE_AFTER_SECONDS = 60 * 60
_CHUNK = 1024 * 1024
_STDOUT_NAMES = {"-"}
_PROC_FD = "/proc/self/fd"


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived while an output was being written (its temporary is gone).

    A KeyboardInterrupt so every door that handles Ctrl-C handles it too; ``signum`` gives
    the conventional exit status ``128 + signum``.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by signal {signum}")
        self.signum = signum


def check_output_path(path: Path, *, field: str = "outfile") -> None:
    """Fail early, before any work, if ``path`` can never be (safely) written as a file."""
    if str(path) in _STDOUT_NAMES:
        raise InputError(
            "standard output is not supported (the summary is printed there); give a file name",
            field=field,
            value=str(path),
        )
    refuse_key_material(path, field=field)
    check_confined(path, field=field)
    shown = str(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        if exc.errno != errno.ENOTDIR:
            raise InputError(os_problem(exc, "written"), field=field, value=shown) from None
        st = None
    except ValueError:
        raise InputError("is not a valid file name", field=field, value=shown) from None
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            raise InputError(
                "is a symbolic link; outputs never write through or replace a link: give the real file name",
                field=field,
                value=shown,
            )
        if stat.S_ISDIR(st.st_mode):
            raise InputError("is a directory; give a file name", field=field, value=shown)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(
                kind(st.st_mode).replace("is a", "exists and is a", 1)
                + "; give a file name (writing to standard output is not supported)",
                field=field,
                value=shown,
            )
    for parent in path.parents:
        if os.path.lexists(parent):
            if not parent.is_dir():
                raise InputError("a part of the path is not a directory", field=field, value=shown)
            break


def stale_temporaries(directory: Path, *, older_than: float = STALE_AFTER_SECONDS) -> list[Path]:
    """Temporaries this tool left in ``directory`` (``.ota-*.tmp``, killed mid-write by
    SIGKILL) that are older than ``older_than`` seconds: a live run's is newer."""
    limit = time.time() - older_than
    found = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    for entry in entries:
        name = entry.name
        if not (name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)):
            continue
        with contextlib.suppress(OSError):
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and st.st_mtime < limit:
                found.append(Path(entry.path))
    return found


def remove_stale_temporaries(directory: Path, *, older_than: float = STALE_AFTER_SECONDS) -> int:
    """Remove :func:`stale_temporaries`; returns how many were removed."""
    removed = 0
    for path in stale_temporaries(directory, older_than=older_than):
        with contextlib.suppress(OSError):
            path.unlink()
            removed += 1
    return removed


_CLEANUP_SIGNALS = tuple(
    s
    for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None), signal.SIGINT)
    if s is not None
)


class _Guard:
    """While ``deferred``, a signal is only recorded: raising inside ``mkstemp`` (after the
    file exists, before its name is known) would leak the temporary."""

    def __init__(self) -> None:
        self.deferred = False
        self.pending: int | None = None

    @contextlib.contextmanager
    def defer(self) -> Iterator[None]:
        self.deferred = True
        try:
            yield
        finally:
            self.deferred = False
        if self.pending is not None:
            raise Terminated(self.pending)


@contextlib.contextmanager
def _signals_raise() -> Iterator[_Guard]:
    """Turn SIGTERM/SIGHUP/SIGINT into :class:`Terminated` (a KeyboardInterrupt) inside the
    block, so ``finally`` clauses remove temporaries; the old handlers are restored."""
    guard = _Guard()
    if threading.current_thread() is not threading.main_thread():
        yield guard
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if guard.deferred:
            guard.pending = signum
            return
        raise Terminated(signum)

    previous = {}
    for signum in _CLEANUP_SIGNALS:
        with contextlib.suppress(OSError, ValueError):
            previous[signum] = signal.signal(signum, handler)
    try:
        yield guard
    finally:
        for signum, old in previous.items():
            with contextlib.suppress(OSError, ValueError, TypeError):
                signal.signal(signum, old)


def _prepare_directory(path: Path, field: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(os_problem(exc, "written"), field=field, value=str(path)) from None


def _unnamed(directory: Path, mode: int) -> int | None:
    """An unnamed regular file in ``directory`` (Linux ``O_TMPFILE``), or None where the
    system or the file system has none (then a named temporary is used)."""
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag or not os.path.isdir(_PROC_FD):
        return None
    try:
        return os.open(directory, flag | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), mode)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT):
            return None  # an old kernel, or a file system without it (some FUSE, NFS)
        raise


def _link_in(fd: int, path: Path, *, replace: bool) -> None:
    """Give the unnamed file ``fd`` the name ``path``: ``linkat(AT_SYMLINK_FOLLOW)`` on
    ``/proc/self/fd/N`` (a folder descriptor is passed so Python calls ``linkat``; plain
    ``link`` would try to link the ``/proc`` entry itself).

    Where ``path`` exists and ``replace`` is set, the file is linked under a short
    temporary name and renamed over it (a link never replaces); otherwise an existing
    ``path`` is a FileExistsError.
    """
    source = f"{_PROC_FD}/{fd}"
    folder = os.open(path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        try:
            os.link(source, path.name, dst_dir_fd=folder, follow_symlinks=True)
            return
        except FileExistsError:
            if not replace:
                raise
        tmp = f"{TEMP_PREFIX}{os.urandom(4).hex()}{TEMP_SUFFIX}"  # secrets.token_hex(4), minus an import
        os.link(source, tmp, dst_dir_fd=folder, follow_symlinks=True)
        try:
            os.replace(tmp, path.name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=folder)
            raise
    finally:
        os.close(folder)


@contextlib.contextmanager
def atomic_output(path: Path, *, field: str = "outfile", mode: int = 0o644) -> Iterator[BinaryIO]:
    """Write ``path`` completely or not at all.

    Where the system has ``O_TMPFILE`` (Linux), the data goes to an unnamed file in the
    output's folder, linked in by name only when complete: even SIGKILL mid-write leaves
    nothing.  Elsewhere it goes to a short temporary renamed into place; on any exception,
    and on SIGTERM/SIGHUP/SIGINT, that temporary is removed (and one left by SIGKILL is
    removed by a later write once stale).  Parent directories are created.
    """
    check_output_path(path, field=field)
    _prepare_directory(path, field)
    remove_stale_temporaries(path.parent)  # left by SIGKILL where there is no O_TMPFILE
    with _signals_raise() as guard:
        try:
            with guard.defer():
                fd = _unnamed(path.parent, mode)
        except OSError as exc:
            raise InputError(os_problem(exc, "written"), field=field, value=str(path)) from None
        if fd is None:
            with _named_output(path, field, mode, guard) as handle:
                yield handle
            return
        try:
            with _unnamed_output(fd, path, field, mode, replace=True) as handle:
                yield handle
        except OSError as exc:
            raise InputError(os_problem(exc, "written"), field=field, value=str(path)) from None


@contextlib.contextmanager
def _unnamed_output(fd: int, path: Path, field: str, mode: int, *, replace: bool) -> Iterator[BinaryIO]:
    """Write the unnamed file ``fd``; when the block ends cleanly, sync it, give it ``mode``
    and link it in as ``path``.  On an exception it is closed and vanishes."""
    with os.fdopen(fd, "wb") as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())
        os.fchmod(handle.fileno(), mode)
        check_output_path(path, field=field)  # nothing swapped in meanwhile
        _link_in(handle.fileno(), path, replace=replace)


@contextlib.contextmanager
def _named_output(path: Path, field: str, mode: int, guard: _Guard) -> Iterator[BinaryIO]:
    """:func:`atomic_output` without ``O_TMPFILE``: a named temporary renamed into place."""
    import tempfile  # only where there is no O_TMPFILE: not a start-up cost of every write

    tmp = ""
    try:
        with guard.defer():
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
    except OSError as exc:
        raise InputError(os_problem(exc, "written"), field=field, value=str(path)) from None
    except BaseException:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        check_output_path(path, field=field)  # nothing swapped in meanwhile
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise InputError(os_problem(exc, "written"), field=field, value=str(path)) from None
        raise


def write_atomic(path: Path, data: bytes, *, field: str = "outfile", mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` with :func:`atomic_output` (in chunks, so a signal is
    handled promptly)."""
    view = memoryview(data)
    with atomic_output(path, field=field, mode=mode) as handle:
        for start in range(0, len(view), _CHUNK):
            handle.write(view[start : start + _CHUNK])


def create_exclusive(path: Path, data: bytes, *, field: str, mode: int = 0o600) -> None:
    """Create ``path`` holding ``data``, failing if anything exists there (even a dangling
    symlink), so two parallel runs cannot both believe they wrote it; the file is never
    readable by others (``mode`` from the start).  With ``O_TMPFILE`` the data is written
    unnamed and linked in (``link`` never replaces), so the name appears only complete;
    elsewhere ``O_CREAT|O_EXCL``."""
    check_output_path(path, field=field)
    _prepare_directory(path, field)
    exists = "already exists; it is never overwritten"
    with _signals_raise() as guard:
        try:
            with guard.defer():
                unnamed = _unnamed(path.parent, mode)
            if unnamed is not None:
                with _unnamed_output(unnamed, path, field, mode, replace=False) as handle:
                    handle.write(data)
                return
        except FileExistsError:
            raise InputError(exists, field=field, value=str(path)) from None
        except OSError as exc:
            raise InputError(os_problem(exc, "written"), field=field, value=str(path)) from None
        _create_named(path, data, field, mode, guard)


def _create_named(path: Path, data: bytes, field: str, mode: int, guard: _Guard) -> None:
    """:func:`create_exclusive` without ``O_TMPFILE``: ``O_CREAT|O_EXCL`` and ``mode`` in one call."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = -1
    try:
        with guard.defer():
            fd = os.open(path, flags, mode)
    except FileExistsError:
        raise InputError("already exists; it is never overwritten", field=field, value=str(path)) from None
    except OSError as exc:
        raise InputError(os_problem(exc, "written"), field=field, value=str(path)) from None
    except BaseException:
        if fd >= 0:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(path)
        raise
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(path)
        if isinstance(exc, OSError):
            raise InputError(os_problem(exc, "written"), field=field, value=str(path)) from None
        raise
