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
import json
import os
import stat
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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


# GitHub takes at most 1 MiB of outputs per job; stay under it with room for the other steps'
# outputs (a job usually has several) and for the heredoc framing of each.
OUTPUTS_LIMIT = 768 * 1024
SHORT_STRING = 256  # characters a string keeps when no list is left to shorten


def _size(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


_Found = tuple[int, list[Any], dict[str, Any] | None, str | None]


def _largest_list(node: object, key: str | None = None) -> _Found:
    """(size, the largest list of two or more items in ``node``, its parent dict, its key)."""
    best: _Found = (0, [], None, None)
    children: list[tuple[str | None, object]] = []
    if isinstance(node, dict):
        children = list(node.items())
    elif isinstance(node, list):
        children = [(None, item) for item in node]
    for child_key, child in children:
        if isinstance(child, list) and len(child) > 1:
            size = _size(child)
            if size > best[0]:
                best = (size, child, node if isinstance(node, dict) else None, child_key)
        if isinstance(child, dict | list):
            found = _largest_list(child, child_key)
            if found[0] > best[0]:
                best = found
    return best


def _shorten_strings(node: object) -> object:
    if isinstance(node, str) and len(node) > SHORT_STRING:
        return node[:SHORT_STRING] + "..."
    if isinstance(node, dict):
        return {k: _shorten_strings(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_shorten_strings(v) for v in node]
    return node


def bound_json(text: str, limit: int) -> str:
    """A JSON object cut below ``limit`` bytes, every cut said: the largest list is halved
    (its length kept beside it as ``<key>_total``) until the whole fits, then long strings
    are shortened; ``"truncated": true`` marks a cut document.  Small ones are unchanged."""
    if len(text.encode("utf-8")) <= limit:
        return text
    doc = json.loads(text)
    if not isinstance(doc, dict):
        doc = {"value": doc}
    doc["truncated"] = True
    while _size(doc) > limit:
        size, items, parent, key = _largest_list(doc)
        if not size:
            break
        if parent is not None and key is not None:
            parent.setdefault(f"{key}_total", len(items))
        del items[max(1, len(items) // 2) :]
    if _size(doc) > limit:
        doc = _shorten_strings(doc)
    if _size(doc) > limit:  # nothing left to cut: what kind of result it was, and that it was cut
        doc = {k: doc[k] for k in ("schema_version", "command", "ok") if k in doc} | {"truncated": True}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def bound_outputs(outputs: Mapping[str, str], limit: int = OUTPUTS_LIMIT) -> dict[str, str]:
    """The outputs with ``summary-json`` cut (:func:`bound_json`) so all of them together
    stay under ``limit`` bytes; another output that alone would not fit is left out, and
    ``summary-json`` names it under ``outputs_left_out``."""
    framing = 2 * len(new_delimiter()) + 8
    sizes = {name: len(name) + len(value.encode("utf-8")) + framing for name, value in outputs.items()}
    if sum(sizes.values()) <= limit:
        return dict(outputs)
    kept = {name: value for name, value in outputs.items() if name != "summary-json"}
    left_out: list[str] = []
    room = limit // 2  # what the others may take; the rest is summary-json's
    for name in sorted(kept, key=lambda n: sizes[n], reverse=True):
        if sum(sizes[n] for n in kept) <= room:
            break
        del kept[name]
        left_out.append(name)
    summary = outputs.get("summary-json")
    if summary is not None:
        if left_out:
            doc = json.loads(summary)
            if isinstance(doc, dict):
                summary = json.dumps({**doc, "outputs_left_out": left_out}, separators=(",", ":"))
        budget = limit - sum(sizes[n] for n in kept) - framing - len("summary-json")
        kept["summary-json"] = bound_json(summary, budget)
    return kept


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
        raise PublishError.unwritable(variable, problem) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise PublishError.unwritable(variable, "is not a regular file")
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError as exc:
        raise PublishError.unwritable(variable, f"cannot be written ({exc.strerror})") from None
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

    problem = ""  # what is wrong with the file, without what it meant for this run

    @classmethod
    def unwritable(cls, variable: str, problem: str) -> PublishError:
        error = cls(f"{variable} {problem}; nothing was published")
        error.problem = f"{variable} {problem}"
        return error


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
