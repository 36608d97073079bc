"""The workspace, and handing what a run created in it to the workspace's owner.

The container runs as root while the runner's workspace belongs to its own user: a file
or folder left root-owned cannot be deleted by a later step (or the next checkout).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path


def workspace() -> Path:
    """``$GITHUB_WORKSPACE``, or the current directory outside GitHub."""
    return Path(os.environ.get("GITHUB_WORKSPACE") or os.getcwd()).resolve()


def relative(path: Path, workspace: Path) -> str | None:
    """``path`` relative to the workspace, or ``None`` when it lies outside."""
    from ota_action.results.base import relative_to

    return relative_to(path, workspace)


def missing_ancestors(path: Path, workspace: Path) -> list[Path]:
    """Directories between the workspace and ``path`` that do not exist yet."""
    missing = []
    for parent in path.resolve().parents:
        if parent == workspace or not parent.is_relative_to(workspace):
            break
        if not parent.exists():
            missing.append(parent)
    return missing


def folders_to_create(settings: object, workspace: Path) -> list[Path]:
    """The folders a command will create for its output: ``outfile``'s missing parents, and
    ``directory`` (extract) with its own missing parents.  Known before the command runs,
    so they can be handed to the owner afterwards and removed when the run fails."""
    folders: list[Path] = []
    outfile = getattr(settings, "outfile", None)
    if isinstance(outfile, Path):
        folders += missing_ancestors(outfile, workspace)
    directory = getattr(settings, "directory", None)
    if isinstance(directory, Path):
        folders += missing_ancestors(directory / "-", workspace)  # the directory itself, too
    return folders


def remove_empty(folders: Iterable[Path]) -> None:
    """Remove the folders a failed run created, deepest first, if nothing is left in them."""
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()


def give_to_workspace_owner(paths: Iterable[Path], workspace: Path) -> tuple[int, int, int] | None:
    """chown what we created to the workspace's owner, so later steps can delete it.

    Only root can (and only in a container need to): elsewhere this is a no-op.
    """
    st = workspace.stat()
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or (st.st_uid, st.st_gid) == (0, 0):
        return None
    count = 0
    for path in paths:
        if path.exists():
            os.chown(path, st.st_uid, st.st_gid, follow_symlinks=False)
            count += 1
    return st.st_uid, st.st_gid, count
