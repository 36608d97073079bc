"""File I/O at the edge: inputs that are regular files, outputs written atomically.

Hostile input is normal input here: any path a user gives may be a FIFO (reading it
blocks forever), a device (``/dev/zero`` never ends), a directory, a symlink loop, a
symlink out of the workspace (``extra.bin -> /proc/self/environ`` would copy the job's
secrets into a published artifact), or a name the file system refuses.  Each becomes an
:class:`InputError` (exit 2) naming the option, never a hang, a traceback or exit 70.

Inputs (:func:`open_input`, :func:`read_input`): ``stat`` before opening, only regular
files are opened, with ``O_NONBLOCK`` so a FIFO swapped in after the check cannot block
the open, then ``fstat`` on the open descriptor to close the race.

Outputs and confinement live in :mod:`ota_action.edges.outputs` and
:mod:`ota_action.edges.paths`; their public names are re-exported here, so a command
imports one module for its files (the outputs' on first use).
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ota_action.edges.paths import (
    check_confined,
    confined,
    confinement,
    kind,
    os_problem,
    refuse_key_material,
)
from ota_action.errors import InputError
from ota_action.lazy import lazy_names

if TYPE_CHECKING:
    from ota_action.edges.outputs import (
        STALE_AFTER_SECONDS,
        TEMP_PREFIX,
        TEMP_SUFFIX,
        Terminated,
        atomic_output,
        check_output_path,
        create_exclusive,
        remove_stale_temporaries,
        stale_temporaries,
        write_atomic,
    )

# Imported on first use: a read-only command (verify, inspect) never loads the output
# side (secrets, tempfile, signal handlers: ~3 ms of start-up, issue 25).
_OUTPUTS = (
    "STALE_AFTER_SECONDS",
    "TEMP_PREFIX",
    "TEMP_SUFFIX",
    "Terminated",
    "atomic_output",
    "check_output_path",
    "create_exclusive",
    "remove_stale_temporaries",
    "stale_temporaries",
    "write_atomic",
)
__getattr__ = lazy_names("ota_action.edges", {"outputs": _OUTPUTS}, globals())

# A whole-file read never takes more than this (the streaming readers do not need it);
# realistic firmware is a few MiB, an XBee file-system image at most a few hundred KiB.
MAX_READ = 256 * 1024 * 1024

__all__ = [
    "MAX_READ",
    "STALE_AFTER_SECONDS",
    "TEMP_PREFIX",
    "TEMP_SUFFIX",
    "Terminated",
    "atomic_output",
    "check_confined",
    "check_input",
    "check_output_path",
    "confined",
    "confinement",
    "create_exclusive",
    "input_size",
    "open_input",
    "read_input",
    "refuse_key_material",
    "remove_stale_temporaries",
    "sha256_hex",
    "stale_temporaries",
    "write_atomic",
]


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
        problem = os_problem(exc, "read")
        if exc.errno == errno.ENOENT and os.path.islink(path):
            problem = "is a symbolic link to a file that does not exist"
        raise InputError(problem, field=field, value=shown) from None
    except ValueError:  # an embedded NUL byte
        raise InputError("is not a valid file name", field=field, value=shown) from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(kind(st.st_mode), field=field, value=shown)
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
        raise InputError(os_problem(exc, "read"), field=field, value=str(path)) from None
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
    except BaseException:
        os.close(fd)
        raise
    # Outside the try: once the file object owns the descriptor, only it may close it. A
    # signal landing inside fdopen must not close the number twice (the second close
    # would hit whatever file reused it: "Bad file descriptor" on a later read).
    return os.fdopen(fd, "rb")


def input_size(path: Path, *, field: str) -> int:
    """The size of a regular input file, checked (as :func:`open_input` does) before any read."""
    return check_input(path, field=field).st_size


def read_input(path: Path, *, field: str, max_size: int = MAX_READ) -> bytes:
    """A whole input file (a regular file of at most ``max_size`` bytes) as bytes."""
    with open_input(path, field=field, max_size=max_size) as handle:
        try:
            data = handle.read(max_size + 1)
        except OSError as exc:
            raise InputError(os_problem(exc, "read"), field=field, value=str(path)) from None
    if len(data) > max_size:  # it grew after the size check
        raise InputError(f"is over {max_size} bytes", field=field, value=str(path))
    return data


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
