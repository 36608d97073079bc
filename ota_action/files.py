"""File I/O at the edge: reading inputs with clear errors, and atomic writes.

Every output goes to a temporary file in the destination directory and is renamed into
place only when complete, so a failure never leaves a partial file where a later CI
step would find it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ota_action.errors import InputError


def read_input(path: Path, *, field: str) -> bytes:
    """Read a whole input file; a missing file, a directory or an unreadable file is an InputError."""
    shown = str(path)
    if not path.exists():
        raise InputError("file does not exist", field=field, value=shown)
    if path.is_dir():
        raise InputError("is a directory, not a file", field=field, value=shown)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}", field=field, value=shown) from None


def input_size(path: Path, *, field: str) -> int:
    """The size of an input file from ``stat``, before reading it; only regular files qualify.

    Sizes come first: every command plans its output from these numbers and refuses
    what the format cannot hold before it reads a byte.
    """
    shown = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError("file does not exist", field=field, value=shown) from None
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}", field=field, value=shown) from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError("is a directory, not a file", field=field, value=shown)
    if not stat.S_ISREG(info.st_mode):
        raise InputError("is not a regular file (a FIFO or device?)", field=field, value=shown)
    return info.st_size


def open_input(path: Path, *, field: str) -> tuple[BinaryIO, int]:
    """An input opened for binary reading, and its size; the caller closes it."""
    size = input_size(path, field=field)
    try:
        return open(path, "rb"), size
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}", field=field, value=str(path)) from None


def check_output_path(path: Path, *, field: str = "outfile") -> None:
    """Fail early, before any work, if ``path`` can never be written as a file."""
    if path.is_dir():
        raise InputError("is a directory; give a file name", field=field, value=str(path))
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"{parent} is not a directory", field=field, value=str(path))
            break


def write_atomic(path: Path, data: bytes, *, field: str = "outfile", mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename; create parent directories."""
    check_output_path(path, field=field)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"cannot be written: {exc.strerror}", field=field, value=str(path)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise InputError(f"cannot be written: {exc.strerror}", field=field, value=str(path)) from None
        raise


@contextlib.contextmanager
def atomic_output(path: Path, *, field: str = "outfile", mode: int = 0o644) -> Iterator[BinaryIO]:
    """Stream an output: yields a temporary file beside ``path``, renamed into place on success.

    The temporary name is short (``.ota-XXXXXXXX.tmp``) so a long output name cannot
    push it past the file system's name limit.  Any exception, including
    KeyboardInterrupt, deletes the temporary file and leaves ``path`` as it was.
    """
    check_output_path(path, field=field)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".ota-", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"cannot be written: {exc.strerror}", field=field, value=str(path)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise InputError(f"cannot be written: {exc.strerror}", field=field, value=str(path)) from None
        raise


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
