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

import uuid
from collections.abc import Mapping
from pathlib import Path

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
    with path.open("ab") as handle:
        handle.write(data)
    return len(data)


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
    with path.open("ab") as handle:
        handle.write(data)
    return len(data), truncated
