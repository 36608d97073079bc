"""GitHub Actions' wire formats: workflow commands on stdout and the file commands.

Pure string functions plus two small appenders.  Everything a user controls (file
names, versions, exception text) passes through :func:`escape_data` or
:func:`escape_property` before it reaches stdout, so a value holding a newline
followed by ``::`` can never become a command of its own (the runner looks for
``::`` at the start of every line of stdout and stderr).

The rules follow ``actions/toolkit`` ``packages/core/src/command.ts`` and
``file-command.ts`` and the runner's ``ActionCommand.cs`` / ``FileCommandManager.cs``.
"""

from __future__ import annotations

import contextlib
import os
import stat
import uuid
from collections.abc import Mapping
from pathlib import Path

from ota_action.errors import OtaActionError

# GitHub rejects a step summary over 1 MiB (the upload fails); stay safely under it.
SUMMARY_LIMIT = 1024 * 1024 - 16 * 1024
# The runner keeps at most 10 annotations of each kind per step and drops the rest.
ANNOTATIONS_PER_KIND = 10


def escape_data(text: str) -> str:
    """A command's message: the runner turns these three escapes back into characters."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command property value (``title=``, ``file=``): also ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str = "", **properties: str | int | None) -> str:
    """One workflow command line, e.g. ``::error title=Input mfg-id::is required``."""
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items() if value)
    head = f"::{name} {props}" if props else f"::{name}"
    return f"{head}::{escape_data(message)}"


def add_mask(value: str) -> str:
    return command("add-mask", value)


def new_delimiter() -> str:
    """A heredoc delimiter no value can guess (the toolkit's ``ghadelimiter_<uuid4>``)."""
    return f"ghadelimiter_{uuid.uuid4()}"


def format_output(name: str, value: str, delimiter: str | None = None) -> str:
    """``name<<DELIM`` / value / ``DELIM``: safe for any value, one line or many."""
    delimiter = delimiter or new_delimiter()
    if delimiter in name or delimiter in value:
        # Practically impossible with a fresh uuid4; refuse rather than corrupt the file.
        raise ValueError("an output name or value contains the heredoc delimiter")
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def append_outputs(path: Path, outputs: Mapping[str, str]) -> int:
    """Append every output to a ``GITHUB_OUTPUT``-style file; returns the bytes written."""
    text = "".join(format_output(name, value) for name, value in outputs.items())
    data = text.encode("utf-8")
    _append(path, data, "GITHUB_OUTPUT")
    return len(data)


# Appending never follows a symbolic link (it could point anywhere, even outside the
# workspace) and never waits on a FIFO: O_NONBLOCK makes opening one without a reader
# fail at once, and what opens is checked to be a regular file before a byte is written.
_APPEND_FLAGS = (
    os.O_WRONLY
    | os.O_APPEND
    | os.O_CREAT
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def _append(path: Path, data: bytes, variable: str) -> None:
    """Append ``data`` to a runner file that must be a regular file; PublishError if not."""
    try:
        fd = os.open(path, _APPEND_FLAGS, 0o644)
    except OSError as exc:
        problem = _destination_problem(path) or f"cannot be written ({exc.strerror})"
        raise PublishError(f"{variable} {problem}; nothing was published") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise PublishError(f"{variable} is not a regular file; nothing was published")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError as exc:
        raise PublishError(f"{variable} cannot be written ({exc.strerror}); nothing was published") from None
    finally:
        os.close(fd)


def truncate_summary(markdown: str, limit: int = SUMMARY_LIMIT) -> tuple[str, bool]:
    """Cut Markdown at a line boundary so its UTF-8 form stays under ``limit`` bytes."""
    data = markdown.encode("utf-8")
    if len(data) <= limit:
        return markdown, False
    note = (
        f"\n\n> ⚠️ Summary truncated: it was {len(data)} bytes and GitHub accepts at most 1 MiB. "
        "The complete result is in the `summary-json` output.\n"
    )
    room = limit - len(note.encode("utf-8"))
    cut = data[:room]
    newline = cut.rfind(b"\n")
    if newline > 0:
        cut = cut[:newline]
    return cut.decode("utf-8", errors="ignore") + note, True


def append_summary(path: Path, markdown: str) -> tuple[int, bool]:
    """Append the step summary (truncated below 1 MiB); returns (bytes written, truncated)."""
    text, truncated = truncate_summary(markdown)
    data = text.encode("utf-8")
    _append(path, data, SUMMARY_VARIABLE)
    return len(data), truncated


# --- where results go: checked before the work, undone when publishing fails -------------


class PublishError(OtaActionError):
    """A runner file (``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``) or ``OTA_RESULT_FILE``
    cannot take the results: exit 2, naming the variable."""


SUMMARY_VARIABLE = "GITHUB_STEP_SUMMARY"
RUNNER_FILES = ("GITHUB_OUTPUT", SUMMARY_VARIABLE)
RESULT_FILE = "OTA_RESULT_FILE"


def _destination_problem(path: Path) -> str | None:
    """Why ``path`` cannot be appended to, or None (a missing file in a directory is fine)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        parent = path.parent
        if not parent.is_dir():
            return "is in a directory that does not exist"
        if not os.access(parent, os.W_OK):
            return "is in a directory that is not writable"
        return None
    except OSError as exc:
        return f"cannot be checked ({exc.strerror})"
    if stat.S_ISLNK(st.st_mode):
        return "is a symbolic link; expected a regular file"
    if stat.S_ISDIR(st.st_mode):
        return "is a directory; expected a regular file"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    if not os.access(path, os.W_OK) or not st.st_mode & 0o222:
        return "is not writable"
    return None


def check_destinations(environ: Mapping[str, str]) -> None:
    """Before any work: every place results will go can take them, or PublishError.

    ``GITHUB_OUTPUT`` / ``GITHUB_STEP_SUMMARY`` (the runner's files) and
    ``OTA_RESULT_FILE`` (the user's, also held to the workspace when confined).
    """
    from ota_action.edges import files

    for variable in (*RUNNER_FILES, RESULT_FILE):
        value = environ.get(variable)
        if not value:
            continue
        path = Path(value)
        if variable == RESULT_FILE:
            try:
                files.check_output_path(path, field="result_file")
            except OtaActionError as exc:
                raise PublishError(f"{variable}: {exc.message}") from None
            if (problem := _destination_problem(path)) is not None and "does not exist" not in problem:
                raise PublishError(f"{variable}: {problem}")
            continue
        if (problem := _destination_problem(path)) is not None:
            raise PublishError(f"{variable} {problem}; the results of this step could not be published")


def write_result_file(path: Path, text: str) -> None:
    """``OTA_RESULT_FILE``: the JSON result, written atomically (never half a file)."""
    from ota_action.edges import files

    try:
        files.write_atomic(path, text.encode("utf-8"), field="result_file")
    except OtaActionError as exc:
        raise PublishError(f"{RESULT_FILE}: {exc.message}") from None


class Publication:
    """What one run added to the runner's files and the workspace, so a failure part-way
    through publishing can take it all back: no outputs, no summary, no artifact."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.sizes: dict[Path, int | None] = {}
        for variable in RUNNER_FILES:
            if value := environ.get(variable):
                path = Path(value)
                try:
                    self.sizes[path] = path.stat().st_size
                except OSError:
                    self.sizes[path] = None
        self.written: list[Path] = []
        self.directories: list[Path] = []

    def rollback(self) -> None:
        """Truncate the runner's files to their old sizes; remove what this run wrote."""
        for path, size in self.sizes.items():
            with contextlib.suppress(OSError):
                st = os.lstat(path)  # never through a link: only the file this run appended to
                if not stat.S_ISREG(st.st_mode):
                    continue
                if size is None:
                    path.unlink()
                elif st.st_size > size:
                    os.truncate(path, size)
        for path in self.written:
            with contextlib.suppress(OSError):
                if path.is_file() and not path.is_symlink():
                    path.unlink()
        for directory in sorted(self.directories, key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                directory.rmdir()
