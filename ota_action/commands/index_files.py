"""``index --check``: each local file an index names, read and compared with its entry.

The rules (which entries name a local file, what must match) are in
:mod:`ota_action.publish.local_files`; this module does the reading.  Every file is
opened as any input is (:func:`ota_action.edges.files.open_input`: a FIFO, a device, a
folder or a link loop is refused without blocking) and hashed in one streamed pass, so a
committed index of thousands of entries costs one read of each file, in constant memory.
A file that is missing, unreadable or different is an error finding, not exit 2: the
index is what is being checked, and every entry is reported.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ota_action.errors import FormatError, InputError
from ota_action.formats.zigbee.checks import Finding
from ota_action.publish.index import FileFacts, IndexFormat
from ota_action.publish.local_files import described, local_path, mismatch
from ota_action.publish.merge import entry_name

MAX_FINDINGS = 200


def _facts(path: Path) -> FileFacts:
    from ota_action.commands.index import facts_of  # the one way index reads a file

    return facts_of(path, field="merge", found=True)


def _digest(facts: FileFacts, algorithm: str | None) -> str | None:
    """The file's digest by the one algorithm its entry names (from the one hashing pass)."""
    if algorithm is None:
        return None
    return facts.sha512 if algorithm == "sha512" else facts.sha3_256


def findings(
    entries: Sequence[dict[str, Any]], fmt: IndexFormat, index_dir: Path
) -> tuple[list[Finding], int]:
    """Error findings for entries whose local file is missing or not the one they describe,
    and how many local files were compared."""
    out: list[Finding] = []
    compared = problems = 0
    for entry in entries:
        relpath = local_path(entry, fmt)
        if relpath is None:
            continue
        compared += 1
        problem, code = _problem(entry, fmt, index_dir / relpath)
        if problem is None:
            continue
        problems += 1
        if len(out) < MAX_FINDINGS:
            out.append(Finding.error(code, f"{entry_name(entry)}: {problem}"))
    if problems > len(out):
        out.append(
            Finding.error("index-file-more", f"and {problems - len(out)} more entries whose file is wrong")
        )
    return out, compared


def _problem(entry: dict[str, Any], fmt: IndexFormat, path: Path) -> tuple[str | None, str]:
    try:
        present = os.path.lexists(path)
    except (OSError, ValueError):  # a NUL byte, a name too long for the system
        return "the path it names is not a usable file name", "index-file-unreadable"
    if not present:
        return "the file it names does not exist", "index-file-missing"
    try:
        said = described(entry, fmt)
        facts = _facts(path)
        digest = _digest(facts, said.algorithm)
    except InputError as exc:
        return f"its file {exc.message}", "index-file-unreadable"
    except FormatError as exc:
        return f"its file is not a Zigbee OTA file ({exc.message})", "index-file-stale"
    except ValueError as exc:  # a checksum zigpy refuses
        return str(exc), "index-file-stale"
    except OSError as exc:
        return f"its file cannot be read ({exc.strerror or exc})", "index-file-unreadable"
    return mismatch(said, facts.file_size, digest), "index-file-stale"


__all__ = ["findings"]
