"""Many files at once: expand files, folders and globs, read every file in parallel, keep the order.

``inspect`` and ``verify`` take any number of paths.  One path that is a file (or
names nothing: the message says so) keeps the single-file output; anything else is a
batch:

- a folder is searched recursively for :data:`SUFFIXES` (case-insensitive), sorted,
  without following symbolic links to folders (a link loop cannot trap the walk);
- a path holding ``*``, ``?`` or ``[`` that names no file is a glob (relative to the
  working directory, the workspace in the Action), sorted; ``**`` crosses folders;
- any other path is a file, whatever its name.

A path that cannot be used (missing, not a regular file, outside the workspace, a glob
or folder with no OTA file) is one entry with its message; every other file is still
read.  Files are read by a thread pool of ``os.cpu_count()`` workers; results come back
in input order whatever order they finish in.  Threads, not processes: hashlib and zlib
release the GIL on large buffers, but AES-MMO is a per-block Python loop that holds it,
so two workers gain about 12% on 1300 real files (3.08 s -> 2.72 s measured), and a
process pool would pay an interpreter start-up per worker for the rest.

``index`` finds its files with the same :func:`expand` (its ``field`` is ``files``).
"""

from __future__ import annotations

import contextvars
import glob
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ota_action.edges import files
from ota_action.errors import InputError

SUFFIXES = (".ota", ".zigbee", ".ota.signed", ".fw", ".sbl-ota", ".bin")
_GLOB_CHARS = frozenset("*?[")
FIELD = "image"

T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """One file to read, or one path that gave none (``problem``, an exit-2 error)."""

    path: Path
    problem: InputError | None = None


def is_glob(path: Path) -> bool:
    text = str(path)
    return bool(_GLOB_CHARS & set(text)) and not os.path.lexists(text)


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


def _walk(folder: Path, field: str) -> Iterator[Target]:
    """Every file with an OTA suffix under ``folder``, sorted; unreadable folders as problems."""
    problems: list[OSError] = []
    found = 0
    for root, dirs, names in os.walk(folder, onerror=problems.append, followlinks=False):
        dirs.sort()
        for name in sorted(names):
            if has_ota_suffix(name):
                found += 1
                yield Target(Path(root) / name)
    for exc in problems:
        where = Path(exc.filename) if exc.filename else folder
        yield Target(where, InputError("folder cannot be read", field=field, value=str(where)))
    if not found and not problems:
        yield Target(
            folder, InputError(f"folder holds no OTA file ({_suffix_text()})", field=field, value=str(folder))
        )


def expand(paths: Sequence[Path], *, field: str = FIELD) -> list[Target]:
    """The files ``paths`` name, in order (folders and globs sorted), each at most once;
    problems name ``field`` (the option or input the paths came from)."""
    out: list[Target] = []
    seen: set[Path] = set()

    def add(target: Target) -> None:
        if target.problem is None and target.path in seen:
            return
        seen.add(target.path)
        out.append(target)

    for path in paths:
        try:
            if is_glob(path):
                matches = sorted(glob.glob(str(path), recursive=True))
                if not matches:
                    problem = "file does not exist (nor does any file match it as a glob)"
                    add(Target(path, InputError(problem, field=field, value=str(path))))
                for match in matches:
                    _add_path(Path(match), add, field)
            else:
                _add_path(path, add, field)
        except (OSError, ValueError):
            add(Target(path, InputError("is not a valid file name", field=field, value=str(path))))
    return out


def _add_path(path: Path, add: Callable[[Target], None], field: str) -> None:
    """A folder is searched; anything else (a glob's match too) is a file named explicitly."""
    if os.path.isdir(path):
        try:
            files.check_confined(path, field=field)
        except InputError as exc:
            add(Target(path, exc))
            return
        for target in _walk(path, field):
            add(target)
    else:
        add(Target(path))


def run_parallel(work: Callable[[Path], T], targets: Sequence[Path], workers: int | None = None) -> list[T]:
    """``work`` on every path, ``workers`` at a time (default: the machine's cores), in input order.

    Each task runs in a copy of the caller's context, so workspace confinement (a
    context variable the Action sets) holds in every worker thread.
    """
    workers = max(1, workers or os.cpu_count() or 1)
    if workers == 1 or len(targets) < 2:
        return [work(path) for path in targets]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ota-read") as pool:
        futures: list[Future[T]] = [
            pool.submit(contextvars.copy_context().run, work, path) for path in targets
        ]
        return [future.result() for future in futures]
