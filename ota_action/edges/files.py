"""File I/O at the edge: inputs that are regular files, outputs written atomically.

Hostile input is normal input here: any path a user gives may be a FIFO (reading it
blocks forever), a device (``/dev/zero`` never ends), a directory, a symlink loop, a
symlink out of the workspace (``extra.bin -> /proc/self/environ`` would copy the job's
secrets into a published artifact), or a name the file system refuses.  Each becomes an
:class:`InputError` (exit 2) naming the option, never a hang, a traceback or exit 70.

Inputs (:func:`open_input`, :func:`read_input`): ``stat`` before opening, only regular
files are opened, with ``O_NONBLOCK`` so a FIFO swapped in after the check cannot block
the open, then ``fstat`` on the open descriptor to close the race.

Outputs (:func:`atomic_output`, :func:`write_atomic`): an existing output must be a
regular file (not a device such as ``/dev/null``, a FIFO, a directory or a symlink; a
symlink is never written through nor replaced, even one pointing to a regular file).
``-`` (standard output) is not supported: the summary is printed there.  Data goes to a
short temporary ``.ota-XXXXXXXX.tmp`` beside the output and is renamed into place when
complete.  SIGTERM, SIGHUP and SIGINT during the write remove the temporary (``docker
stop`` sends SIGTERM); a temporary left by SIGKILL is recognised by its prefix and
removed by a later write to the same directory once it is older than
:data:`STALE_AFTER_SECONDS`.

Confinement (:func:`confined`): the Action (and ``docker run`` without arguments)
turns it on for the workspace; then every input and output must resolve, after
symlinks, inside it.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import hashlib
import os
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import BinaryIO

from ota_action import safe_text
from ota_action.errors import InputError

# A whole-file read never takes more than this (the streaming readers do not need it);
# realistic firmware is a few MiB, an XBee file-system image at most a few hundred KiB.
MAX_READ = 256 * 1024 * 1024
TEMP_PREFIX = ".ota-"
TEMP_SUFFIX = ".tmp"
STALE_AFTER_SECONDS = 60 * 60
_CHUNK = 1024 * 1024
_STDOUT_NAMES = {"-"}

_ROOT: contextvars.ContextVar[Path | None] = contextvars.ContextVar("ota_action_files_root", default=None)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived while an output was being written (its temporary is gone).

    A KeyboardInterrupt so every door that handles Ctrl-C handles it too; ``signum`` gives
    the conventional exit status ``128 + signum``.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by signal {signum}")
        self.signum = signum


# --- confinement --------------------------------------------------------------------------


@contextlib.contextmanager
def confined(root: Path) -> Iterator[Path]:
    """Within the block every input and output must resolve inside ``root`` (the workspace)."""
    resolved = Path(os.path.realpath(root))
    token = _ROOT.set(resolved)
    try:
        yield resolved
    finally:
        _ROOT.reset(token)


def confinement() -> Path | None:
    """The directory paths are confined to, or None (the CLI: the user's own machine)."""
    return _ROOT.get()


def check_confined(path: Path, *, field: str) -> None:
    """Refuse ``path`` when confinement is on and it resolves (after symlinks) outside it."""
    root = _ROOT.get()
    if root is None:
        return
    try:
        real = Path(os.path.realpath(path))
    except (OSError, ValueError):
        raise InputError("is not a valid file name", field=field, value=str(path)) from None
    if real != root and not real.is_relative_to(root):
        raise InputError(
            "resolves (after symbolic links) outside the workspace; the Action reads and writes "
            "only files inside GITHUB_WORKSPACE",
            field=field,
            value=str(path),
        )


# --- errors -------------------------------------------------------------------------------


def _os_problem(exc: OSError, verb: str) -> str:
    """One line for an OSError on a user's path (never the library's text with the path)."""
    code = exc.errno
    if code == errno.ENOENT:
        return "file does not exist"
    if code == errno.ELOOP:
        return "is a symbolic link loop"
    if code == errno.ENAMETOOLONG:
        return "name is too long for the file system (a part over 255 bytes?)"
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if code == errno.ENOTDIR:
        return "a part of the path is not a directory"
    if code == errno.EISDIR:
        return "is a directory, not a file"
    if code == errno.ENOSPC:
        return f"cannot be {verb}: no space left on the device"
    if code == errno.EROFS:
        return f"cannot be {verb}: the file system is read-only"
    return f"cannot be {verb}: {exc.strerror or type(exc).__name__}"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe), not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    return "is not a regular file"


def refuse_key_material(path: Path, *, field: str) -> None:
    """Refuse a value that cannot be a path of this system: a path option is a path.

    Refused: a value holding a line break or PEM armour, and one that is a key token as a
    whole (:func:`~ota_action.safe_text.is_key_token`: a hex scalar, a base64 key line)
    and names nothing here (no such file, and no folder it would go in).  A value that
    names an existing file or folder is never refused for its spelling; the heuristic
    only decides whether a message echoes it.  Paths found by walking a folder or
    expanding a glob never come here.
    """
    text = str(path)
    if safe_text.cannot_be_path(text) or (safe_text.is_key_token(text) and not _names_a_place(text)):
        raise InputError(
            "looks like key material, not a file name; never put a key on the command line "
            "(use an environment variable or a key file)",
            field=field,
        )


def _names_a_place(text: str) -> bool:
    """True when ``text`` exists, or its folder does (a file about to be written there)."""
    parent = os.path.dirname(text)
    try:
        return os.path.lexists(text) or (parent not in ("", os.sep, ".") and os.path.isdir(parent))
    except (OSError, ValueError):
        return False


# --- inputs -------------------------------------------------------------------------------


def check_input(
    path: Path, *, field: str, max_size: int | None = None, found: bool = False
) -> os.stat_result:
    """Everything :func:`open_input` checks before opening; returns the file's stat.

    ``found``: the path came from walking a folder or expanding a glob, not from the user,
    so its spelling is never judged.
    """
    if not found:
        refuse_key_material(path, field=field)
    check_confined(path, field=field)
    shown = str(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        problem = _os_problem(exc, "read")
        if exc.errno == errno.ENOENT and os.path.islink(path):
            problem = "is a symbolic link to a file that does not exist"
        raise InputError(problem, field=field, value=shown) from None
    except ValueError:  # an embedded NUL byte
        raise InputError("is not a valid file name", field=field, value=shown) from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(_kind(st.st_mode), field=field, value=shown)
    if max_size is not None and st.st_size > max_size:
        raise InputError(
            f"is {st.st_size} bytes; at most {max_size} are read from this file", field=field, value=shown
        )
    return st


def open_input(path: Path, *, field: str, max_size: int | None = None, found: bool = False) -> BinaryIO:
    """Open a regular file for reading, or raise InputError naming ``field``.

    Checked before opening (so a FIFO or device is never opened), opened non-blocking,
    and checked again on the descriptor (so a file swapped after the check is caught).
    """
    before = check_input(path, field=field, max_size=max_size, found=found)
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(_os_problem(exc, "read"), field=field, value=str(path)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (before.st_dev, before.st_ino):
            raise InputError("changed while it was being opened", field=field, value=str(path))
        if max_size is not None and st.st_size > max_size:
            raise InputError(
                f"is {st.st_size} bytes; at most {max_size} are read from this file",
                field=field,
                value=str(path),
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def input_size(path: Path, *, field: str) -> int:
    """The size of a regular input file, checked (as :func:`open_input` does) before any read."""
    return check_input(path, field=field).st_size


def read_input(path: Path, *, field: str, max_size: int = MAX_READ) -> bytes:
    """A whole input file (a regular file of at most ``max_size`` bytes) as bytes."""
    with open_input(path, field=field, max_size=max_size) as handle:
        try:
            data = handle.read(max_size + 1)
        except OSError as exc:
            raise InputError(_os_problem(exc, "read"), field=field, value=str(path)) from None
    if len(data) > max_size:  # it grew after the size check
        raise InputError(f"is over {max_size} bytes", field=field, value=str(path))
    return data


# --- outputs ------------------------------------------------------------------------------


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
            raise InputError(_os_problem(exc, "written"), field=field, value=shown) from None
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
                _kind(st.st_mode).replace("is a", "exists and is a", 1)
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
        raise InputError(_os_problem(exc, "written"), field=field, value=str(path)) from None


@contextlib.contextmanager
def atomic_output(path: Path, *, field: str = "outfile", mode: int = 0o644) -> Iterator[BinaryIO]:
    """Write ``path`` through a short temporary renamed into place on success.

    On any exception, and on SIGTERM/SIGHUP/SIGINT, the temporary is removed and nothing
    appears at ``path``.  Parent directories are created; stale temporaries there are
    removed first.
    """
    check_output_path(path, field=field)
    _prepare_directory(path, field)
    remove_stale_temporaries(path.parent)
    with _signals_raise() as guard:
        tmp = ""
        try:
            with guard.defer():
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
        except OSError as exc:
            raise InputError(_os_problem(exc, "written"), field=field, value=str(path)) from None
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
                raise InputError(_os_problem(exc, "written"), field=field, value=str(path)) from None
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
    symlink): ``O_CREAT|O_EXCL`` with ``mode`` in the same call, so two parallel runs
    cannot both believe they wrote it and the file is never readable by others."""
    check_output_path(path, field=field)
    _prepare_directory(path, field)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    with _signals_raise() as guard:
        fd = -1
        try:
            with guard.defer():
                fd = os.open(path, flags, mode)
        except FileExistsError:
            problem = "already exists; it is never overwritten"
            raise InputError(problem, field=field, value=str(path)) from None
        except OSError as exc:
            raise InputError(_os_problem(exc, "written"), field=field, value=str(path)) from None
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
                raise InputError(_os_problem(exc, "written"), field=field, value=str(path)) from None
            raise


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
