"""One rule for every command that writes: an output never replaces one of its own inputs.

``index app.ota -o app.ota`` used to replace the firmware with JSON (exit 0); ``combine
a.hex b.hex -o a.hex`` and ``zbota -t 0x0000:out.ota -o out.ota`` are the same mistake.
Each command calls :func:`refuse_overwrite` with its output and every input it read,
before it writes anything; only a command whose documented job is to rewrite a file
(``rewrap IN -o IN``, ``index --merge X -o X``) leaves that one input out.

Two paths are the same file when, after symbolic links, they name one file: equal
device and inode numbers (so a hard link or ``./a/../a.ota`` is caught too).  Where the
file system gives no inode (``st_ino == 0``: some Windows and network file systems) the
fallback compares the resolved, case-normalised paths.  A path that does not exist yet
is no file's name, so it never matches.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ota_action.errors import InputError
from ota_action.safe_text import shown


def _identity(path: Path) -> tuple[int, int] | str | None:
    """(device, inode) of the file ``path`` names after symlinks, its resolved path where the
    inode is unreliable, or None when nothing is there (or the name is unusable)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if st.st_ino == 0:
        try:
            return os.path.normcase(os.path.realpath(path))
        except (OSError, ValueError):
            return None
    return (st.st_dev, st.st_ino)


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one existing file (see the module docstring)."""
    first = _identity(a)
    return first is not None and first == _identity(b)


def same_name(a: Path, b: Path) -> bool:
    """Whether two outputs that may not exist yet would be one file: equal resolved,
    case-normalised paths (``realpath`` never raises on a symlink loop, unlike ``resolve``)."""
    try:
        return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b)) or same_file(
            a, b
        )
    except (OSError, ValueError):
        return False


def refuse_overwrite(output: Path, inputs: Iterable[Path], *, field: str = "outfile") -> None:
    """Raise InputError (naming ``field``) when ``output`` is one of ``inputs``.

    The message repeats the input's name (escaped, redacted if it looks like a key) so
    the user sees which two values clash.  The output is looked up once, each input once.
    """
    target = _identity(output)
    if target is None:
        return
    for path in inputs:
        if _identity(path) == target:
            raise InputError(
                f"is the same file as the input {shown(path)}; writing it would destroy that "
                "input: give another output name",
                field=field,
                value=str(output),
            )


__all__ = ["refuse_overwrite", "same_file", "same_name"]
