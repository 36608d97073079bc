"""One walker for folders and globs: every file under a folder, or every path a glob matches.

Committed content is hostile input: a folder may hold links to itself (``ln -s . a``),
chains of links, a thousand levels of folders, names that are not UTF-8, or be the
root of the machine.  Python's ``glob`` follows every link again and again (``fw/**``
over ``fw/a -> .`` never ends) and ``os.walk`` recurses; this walker

- keeps one explicit stack (no recursion: depth costs a list entry, not a frame) and
  reads each folder whole before going deeper (no descriptor held per level);
- enters each folder once, by ``(st_dev, st_ino)``: a link into a folder it already
  holds is never followed, a link to any other folder is;
- stops with a problem (an exit-2 entry naming the option) after :data:`MAX_ENTRIES`
  directory entries or below :data:`MAX_DEPTH` folders;
- when confined to the workspace, does not go into folders outside it (a glob from
  ``/`` only walks the workspace's ancestors and the workspace), and reports a link
  in a walked folder that leads out of it;
- keeps names as the system gives them (undecodable bytes as surrogate escapes, which
  :func:`~ota_action.safe_text.printable` shows as ``\\xe9``).

Order: a folder's files (sorted), then its sub-folders (sorted), depth first - the
order ``os.walk`` gave, so listings stay as they were.

A glob (``*``, ``?``, ``[...]`` per name, ``**`` for any number of folders) follows
the conventions of Python's ``glob(recursive=True)``: a name starting with ``.`` is
matched only by a part that starts with ``.``; a folder the whole pattern matches is
walked as a folder.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from ota_action.edges import files
from ota_action.errors import InputError
from ota_action.records import field, record, replace

MAX_ENTRIES = 2_000_000  # directory entries looked at for one folder or glob
MAX_DEPTH = 2048  # folders below the start (a 4096-byte path holds at most 2048 levels)
_MAGIC = frozenset("*?[")
_ANY = "**"


@record
class Found:
    """A file the walk found, or a problem (an exit-2 entry) met on the way."""

    path: Path
    problem: InputError | None = None


def has_magic(part: str) -> bool:
    return bool(_MAGIC & set(part))


@record
class Limits:
    """How far one walk goes: directory entries looked at, folders below the start."""

    entries: int = MAX_ENTRIES
    depth: int = MAX_DEPTH


WALK_LIMITS = Limits()  # a walk's limits unless it is given others


@record
class _Frame:
    """A folder still to read: its path, its depth below the start, the glob positions
    still to match below it (None: every file), and whether it is inside the workspace
    (False: an ancestor of it, walked only on the way there)."""

    path: str
    depth: int
    states: frozenset[int] | None
    inside: bool = True


@record(frozen=False)
class _Walk:
    """One walk: what it was asked (for messages), what it holds, what it looked at."""

    origin: str
    option: str
    keep: Callable[[str], bool]
    parts: tuple[str, ...] = ()
    limits: Limits = WALK_LIMITS
    held: set[tuple[int, int]] = field(default_factory=set)
    looked_at: int = 0

    def enter(self, path: str) -> bool:
        """True the first time a folder is reached (by any name), False after that."""
        try:
            st = os.stat(path or os.curdir)
        except (OSError, ValueError):
            return False
        key = (st.st_dev, st.st_ino) if st.st_ino else (st.st_dev, hash(os.path.realpath(path)))
        if key in self.held:
            return False
        self.held.add(key)
        return True

    def problem(self, path: str, message: str) -> Found:
        return Found(Path(path), InputError(message, field=self.option, value=path))


def _entries(path: str) -> list[os.DirEntry[str]] | None:
    try:
        with os.scandir(path or os.curdir) as it:
            return sorted(it, key=lambda e: e.name)
    except (OSError, ValueError):
        return None


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows a link: a link to a folder is a folder
    except OSError:
        return False


def _where(path: str) -> bool | None:
    """True inside the workspace (or not confined), None on its way there (an ancestor of
    it), False elsewhere."""
    root = files.confinement()
    if root is None:
        return True
    real = Path(os.path.realpath(path or os.curdir))
    if real == root or real.is_relative_to(root):
        return True
    return None if root.is_relative_to(real) else False


_OUTSIDE = (
    "resolves (after symbolic links) outside the workspace; the Action reads and writes "
    "only files inside GITHUB_WORKSPACE"
)


def walk_folder(
    folder: Path, *, keep: Callable[[str], bool], field: str, limits: Limits = WALK_LIMITS
) -> Iterator[Found]:
    """Every file under ``folder`` whose name ``keep`` accepts, in walk order."""
    walk = _Walk(str(folder), field, keep, limits=limits)
    if _where(str(folder)) is not True:
        yield walk.problem(str(folder), _OUTSIDE)
        return
    walk.enter(str(folder))
    yield from _run(walk, _Frame(str(folder), 0, None))


def walk_glob(
    pattern: str, *, keep: Callable[[str], bool], field: str, limits: Limits = WALK_LIMITS
) -> Iterator[Found]:
    """Every file ``pattern`` matches, and every ``keep``-accepted file under a folder it
    matches, in walk order.  Nothing when the folder before its first wildcard is missing."""
    drive, rest = os.path.splitdrive(pattern)
    seps = (os.sep, os.altsep) if os.altsep else (os.sep,)
    for sep in seps[1:]:
        rest = rest.replace(sep, os.sep)
    parts = [p for p in rest.split(os.sep) if p not in ("", ".")]
    start = drive + (os.sep if rest.startswith(os.sep) else "")
    literal = 0
    while literal < len(parts) - 1 and not has_magic(parts[literal]):
        literal += 1
    base = os.path.join(start, *parts[:literal]) if start or literal else ""
    walk = _Walk(pattern, field, keep, tuple(parts[literal:]), limits)
    if not os.path.isdir(base or os.curdir):
        return
    where = _where(base)
    if where is False:
        yield walk.problem(pattern, _OUTSIDE)
        return
    walk.enter(base)
    yield from _run(walk, _Frame(base, 0, _closure(walk.parts, frozenset({0})), inside=bool(where)))


def _closure(parts: tuple[str, ...], states: frozenset[int]) -> frozenset[int]:
    """``states`` plus every position reached by letting a ``**`` match no folder."""
    out = set(states)
    for first in states:
        i = first
        while i < len(parts) and parts[i] == _ANY:
            i += 1
            out.add(i)
    return frozenset(out)


def _step(parts: tuple[str, ...], states: frozenset[int], name: str) -> frozenset[int]:
    """The pattern positions after ``name`` (one part of a path) is matched from ``states``."""
    out: set[int] = set()
    for i in states:
        if i >= len(parts) or (name.startswith(".") and not parts[i].startswith(".")):
            continue
        if parts[i] == _ANY:
            out.add(i)
        elif fnmatch.fnmatch(name, parts[i]):
            out.add(i + 1)
    return _closure(parts, frozenset(out))


def _run(walk: _Walk, first: _Frame) -> Iterator[Found]:
    """Depth first from ``first``: each folder's files, then its sub-folders."""
    stack = [first]
    end = len(walk.parts)
    while stack:
        frame = stack.pop()
        entries = _entries(frame.path)
        if entries is None:
            if frame.states is None:  # a glob passes unreadable folders by, as a shell does
                yield walk.problem(frame.path, "folder cannot be read")
            continue
        walk.looked_at += len(entries)
        if walk.looked_at > walk.limits.entries:
            yield walk.problem(
                walk.origin,
                f"holds more than {walk.limits.entries} entries; name a smaller folder or a narrower glob",
            )
            return
        below: list[_Frame] = []
        for entry in entries:
            path = os.path.join(frame.path, entry.name) if frame.path else entry.name
            here = None if frame.states is None else _step(walk.parts, frame.states, entry.name)
            matched = here is None or end in here
            if _is_dir(entry):
                if here is None or matched or here:
                    below.append(_Frame(path, frame.depth + 1, None if matched else here, frame.inside))
            elif frame.inside and (walk.keep(entry.name) if here is None else matched):
                yield Found(Path(path))  # (a glob's folders on the way to the workspace hold none)
        entered, problems = _enter(walk, below, glob=frame.states is not None)
        yield from problems
        for sub in reversed(entered):
            if sub.depth > walk.limits.depth:
                yield walk.problem(
                    sub.path, f"is more than {walk.limits.depth} folders deep; the walk stops there"
                )
                return
            stack.append(sub)


def _enter(walk: _Walk, below: list[_Frame], *, glob: bool) -> tuple[list[_Frame], list[Found]]:
    """The sub-folders to walk, in name order: each folder once (real folders are taken
    before links to them), none outside the workspace (a link leading out of a walked
    folder is reported; a glob passes such folders by)."""
    chosen: dict[str, _Frame] = {}
    problems: list[Found] = []
    links = []
    for sub in below:
        if os.path.islink(sub.path):
            links.append(sub)
        elif not sub.inside:
            where = _where(sub.path)
            if where is not False and walk.enter(sub.path):
                chosen[sub.path] = replace(sub, inside=bool(where))
        elif walk.enter(sub.path):
            chosen[sub.path] = sub
    for sub in links:
        where = _where(sub.path)
        if where is False:
            if not glob:
                problems.append(walk.problem(sub.path, _OUTSIDE))
        elif walk.enter(sub.path):
            chosen[sub.path] = replace(sub, inside=bool(where))
    return [chosen[sub.path] for sub in below if sub.path in chosen], problems
