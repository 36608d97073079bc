"""Paths a user gives, before any file is opened: confinement to the workspace, what an
OSError means in one line, and the one rule for values that cannot be paths.

Confinement (:func:`confined`): the Action (and ``docker run`` without arguments)
turns it on for the workspace; then every input and output must resolve, after
symlinks, inside it.

Key material (:func:`refuse_key_material`): a path option is a path.  Only a value that
cannot be a path of this system is refused: one holding PEM armour or spanning lines of
key material, or a key token (a hex scalar, a base64 key line) that names nothing here.  A value naming an
existing file or folder is never refused for its spelling.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from ota_action import safe_text
from ota_action.errors import InputError

_ROOT: contextvars.ContextVar[Path | None] = contextvars.ContextVar("ota_action_files_root", default=None)


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


def os_problem(exc: OSError, verb: str) -> str:
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


def kind(mode: int) -> str:
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

    Refused: a value holding PEM armour or lines of key material
    (:func:`~ota_action.safe_text.cannot_be_path`), and one that is a key token as a
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
