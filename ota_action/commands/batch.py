"""Many files at once: expand files, folders and globs, read every file in parallel, keep the order.

``inspect`` and ``verify`` take any number of paths.  One path that is a file (or
names nothing: the message says so) keeps the single-file output; anything else is a
batch:

- a folder is searched recursively for :data:`SUFFIXES` (case-insensitive), sorted;
- a path holding ``*``, ``?`` or ``[`` that names no file is a glob (relative to the
  working directory, the workspace in the Action), sorted; ``**`` crosses folders;
- any other path is a file, whatever its name.

Folders and globs are walked by :mod:`ota_action.edges.walk` (each folder entered once,
however many links lead to it; bounded count and depth).  A file they find is never
judged by its name, and one that is no OTA file is skipped and counted, not an error.

A path that cannot be used (missing, not a regular file, outside the workspace, a glob
or folder with no OTA file) is one entry with its message; every other file is still
read.  The files are read on every core by :mod:`ota_action.commands.parallel` (a fork
pool on Linux, threads elsewhere, in-process for a few files; docs/speed.md "Batch
verify"); results come back in input order, as soon as each is ready, and a batch of
100,000 files holds a window of 64 results (``parallel.WINDOW``), not all of them.

This module is imported by ``verify FILE`` too (for :func:`is_batch`), so it imports
neither the walk nor the pool: each is imported when a batch first needs it.

``index`` finds its files with the same :func:`expand` (its ``field`` is ``files``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from ota_action.errors import InputError

if TYPE_CHECKING:
    from ota_action.edges import walk

SUFFIXES = (".ota", ".zigbee", ".ota.signed", ".fw", ".sbl-ota", ".bin")
FIELD = "image"
_MAGIC = frozenset("*?[")  # what makes a path a glob (walk.has_magic, without importing the walk)

T = TypeVar("T")
U = TypeVar("U")


class Target(NamedTuple):
    """One file to read, or one path that gave none (``problem``, an exit-2 error).

    ``found``: the file came from walking a folder or expanding a glob, not from the
    user, so its name is never judged and a file that is no OTA file is skipped.
    A named tuple: ``verify FILE`` creates the class, and a batch makes one per file
    (CONTRIBUTING.md, "Records").
    """

    path: Path
    problem: InputError | None = None
    found: bool = False


def is_glob(path: Path) -> bool:
    text = str(path)
    return bool(_MAGIC & set(text)) and not os.path.lexists(text)


def is_batch(paths: Sequence[Path]) -> bool:
    """True unless exactly one path is given and it is neither a folder nor a glob."""
    if len(paths) != 1:
        return True
    only = paths[0]
    try:
        return is_glob(only) or os.path.isdir(only)
    except (OSError, ValueError):  # a name the system refuses: single mode says so
        return False


def has_ota_suffix(name: str) -> bool:
    return name.lower().endswith(SUFFIXES)


def _suffix_text() -> str:
    return ", ".join(f"*{s}" for s in SUFFIXES)


def targets(paths: Iterable[Path], *, field: str = FIELD) -> Iterator[Target]:
    """The files ``paths`` name, in order (folders and globs in walk order), each at most
    once, as they are found; problems name ``field`` (the option the paths came from)."""
    seen: set[str] = set()  # the names, not the Path objects: a tenth of the memory
    for path in paths:
        for target in _one_path(path, field):
            if target.problem is None:
                name = str(target.path)  # Path equality: "./a" and "a" are one
                if name in seen:
                    continue
                seen.add(name)
            yield target


def expand(paths: Sequence[Path], *, field: str = FIELD) -> list[Target]:
    """:func:`targets` as a list (``index`` counts them before it reads any)."""
    return list(targets(paths, field=field))


def _one_path(path: Path, field: str) -> Iterator[Target]:
    """A folder is walked, a glob expanded; anything else is a file named explicitly."""
    from ota_action.edges import walk

    try:
        if is_glob(path):
            found = _found(walk.walk_glob(str(path), keep=has_ota_suffix, field=field))
            problem = "file does not exist (nor does any file match it as a glob)"
        elif os.path.isdir(path):
            found = _found(walk.walk_folder(path, keep=has_ota_suffix, field=field))
            problem = f"folder holds no OTA file ({_suffix_text()})"
        else:
            yield Target(path)
            return
        empty = True
        for target in found:
            empty = False
            yield target
        if empty:
            yield Target(path, InputError(problem, field=field, value=str(path)))
    except (OSError, ValueError):
        yield Target(path, InputError("is not a valid file name", field=field, value=str(path)))


def _found(walked: Iterator[walk.Found]) -> Iterator[Target]:
    for item in walked:
        yield Target(item.path, item.problem, found=True)


def stream_parallel(
    work: Callable[[T], U],
    items: Iterable[T],
    workers: int | None = None,
    *,
    lost: Callable[[T, str], U] | None = None,
) -> Generator[U, None, None]:
    """``work`` on every item, ``workers`` at a time (default: the cores this process may
    use), results in input order as soon as each is ready; at most ``parallel.WINDOW`` held.

    ``lost(item, why)`` stands for an item whose worker process died reading it; an
    exception ``work`` raises is raised at its item's place.  Each task runs in a copy
    of the caller's context (workspace confinement holds in every worker).
    """
    from ota_action.commands import parallel

    return parallel.stream(work, items, workers=workers, lost=lost, size=_file_size)


def _file_size(item: object) -> int:
    """Bytes of a :class:`Target` or a path (0 for anything else, or a file not there):
    how the pool tells a small batch, read in-process, from one worth the cores."""
    path = item.path if isinstance(item, Target) else item
    if not isinstance(path, str | Path):
        return 0
    try:
        return os.stat(path).st_size
    except (OSError, ValueError):
        return 0
