"""The result of ``inspect``/``verify`` on many files: one entry per file, in input order.

Each entry is the file's own result (exactly what the single-file command returns), a
:class:`FileProblem` (a path that could not be used, or a file named explicitly that is
not an OTA file) or a :class:`Skipped` file (found by a folder walk or a glob, and no
OTA file: counted, never an error).

Entries stream: the result takes them as they are produced, and its views write each
file's line as it arrives (:meth:`BatchResult.text_chunks`, :meth:`BatchResult.json_chunks`),
keeping only a :class:`Tally` - the counts, the first rows of the step summary and of
``summary-json``, the first findings - so memory stays flat with the number of files.
The views:

- ``json_text()`` - JSON Lines, one object per file: the single-file ``--json`` object
  (which starts its own keys with ``file``); a problem is the same envelope with its
  one error;
- ``to_json()`` - one object (the Action's ``summary-json``): counts and one short row
  per file; ``outputs()`` caps it (GitHub limits an output to 1 MiB) and says so;
- ``text()`` - one line per file (verdict, manufacturer, image type, version, size,
  layout, file, first problem) and the totals; ``markdown()`` - the same as a table;
- ``exit_code`` - 2 when any path was unusable, else 1 when any file is invalid, else 0
  (skipped files change nothing).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from ota_action.errors import EXIT_USAGE
from ota_action.formats.zigbee.checks import Finding, Level
from ota_action.records import field, record
from ota_action.results.base import Result, finding_json, hex_text, md_table, plural
from ota_action.results.entries import SKIPPED, Entry, FileProblem, Skipped
from ota_action.results.matter import MatterInspectResult
from ota_action.safe_text import printable

SUMMARY_LIMIT = 512 * 1024  # bytes of summary-json; GitHub takes at most 1 MiB per output
MARKDOWN_ROWS = 2000  # rows of the step-summary table (GitHub takes at most 1 MiB per step)
FINDINGS_KEPT = 1000  # findings kept for annotations and summary-json (each file's line has its own)


def entry_findings(entry: Entry) -> list[Finding]:
    """The entry's findings, each message prefixed with its file."""
    if isinstance(entry, Skipped):
        return []
    found = (entry.finding,) if isinstance(entry, FileProblem) else entry.findings
    return [Finding(f.level, f.code, f"{entry.file}: {f.message}") for f in found]


def _row(entry: Entry) -> list[str]:
    """Verdict, manufacturer, image type, version, size, layout, file, first problem
    (the first error, else the first warning)."""
    if isinstance(entry, FileProblem):
        return [entry.word, "-", "-", "-", "-", "-", str(entry.file), entry.message]
    if isinstance(entry, Skipped):
        return [entry.word, "-", "-", "-", "-", "-", str(entry.file), entry.reason]
    if isinstance(entry, MatterInspectResult):
        return entry.batch_row()
    h = entry.ota.header
    warnings = [f.message for f in entry.findings if f.level is Level.WARNING]
    problem = entry.errors[0] if entry.errors else ""
    if len(entry.errors) > 1:
        problem += f" (and {plural(len(entry.errors) - 1, 'more error')})"
    elif not entry.errors and warnings:  # a valid file with warnings is marked: the totals count them
        problem = f"warning: {warnings[0]}"
        if len(warnings) > 1:
            problem += f" (and {plural(len(warnings) - 1, 'more warning')})"
    return [
        entry.word(),
        hex_text(h.manufacturer_code, 4),
        hex_text(h.image_type, 4),
        hex_text(h.file_version, 8),
        str(entry.file_size),
        entry.vendor.layout,
        str(entry.file),
        problem,
    ]


@record(frozen=False)
class Tally:
    """What a batch keeps of its entries once they are shown: counts and bounded samples."""

    files: int = 0
    valid: int = 0
    invalid: int = 0
    unusable: int = 0
    skipped: int = 0
    warnings: int = 0
    errors: int = 0
    rows: list[list[str]] = field(default_factory=list)  # the step summary's first rows
    summary: list[dict[str, object]] = field(default_factory=list)  # summary-json's first rows
    summary_bytes: int = 0
    findings: list[Finding] = field(default_factory=list)  # the first FINDINGS_KEPT

    def add(self, entry: Entry) -> None:
        self.files += 1
        word = _word(entry)
        if word == "skipped":
            self.skipped += 1
        elif word == "unusable":
            self.unusable += 1
        elif word == "invalid":
            self.invalid += 1
        else:
            self.valid += 1
        found = entry_findings(entry)
        self.warnings += sum(1 for f in found if f.level is Level.WARNING)
        self.errors += sum(1 for f in found if f.level is Level.ERROR)
        self.findings += found[: max(0, FINDINGS_KEPT - len(self.findings))]
        if len(self.rows) < MARKDOWN_ROWS:
            self.rows.append(_row(entry))
        if self.summary_bytes <= SUMMARY_LIMIT:
            row = _summary_row(entry)
            self.summary.append(row)
            self.summary_bytes += len(json.dumps(row, separators=(",", ":"))) + 1

    @property
    def cut(self) -> bool:
        """True when some file's row or finding was not kept."""
        return len(self.summary) < self.files or len(self.findings) < self.warnings + self.errors


class _Stream:
    """The entries, taken once: each is tallied as it passes, then let go."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._source: Iterator[Entry] | None = iter(entries)
        self.tally = Tally()

    def __iter__(self) -> Iterator[Entry]:
        source, self._source = self._source, None
        for entry in source or ():
            self.tally.add(entry)
            yield entry

    def drain(self) -> Tally:
        for _ in self:
            pass
        return self.tally


@record(kw_only=True)
class BatchResult(Result):
    """``inspect``/``verify`` on several files (the subclasses name the command).

    ``entries`` is any iterable, taken once: the first view that needs it (the text,
    the JSON Lines, a count) consumes it; later views work from the :class:`Tally`.
    """

    entries: Iterable[Entry]
    _stream: _Stream = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_stream", _Stream(self.entries))

    @property
    def tally(self) -> Tally:
        return self._stream.drain()

    # -- counts -------------------------------------------------------------------------
    @property
    def kept_findings(self) -> tuple[Finding, ...]:
        """The first :data:`FINDINGS_KEPT` findings, each prefixed with its file."""
        return tuple(self.tally.findings)

    @property
    def warnings(self) -> list[str]:
        return [f.message for f in self.kept_findings if f.level is Level.WARNING]

    @property
    def errors(self) -> list[str]:
        return [f.message for f in self.kept_findings if f.level is Level.ERROR]

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "findings": [finding_json(f) for f in self.kept_findings]}

    @property
    def ok(self) -> bool:
        tally = self.tally
        return not tally.errors and not tally.invalid and not tally.unusable

    @property
    def unusable(self) -> int:
        return self.tally.unusable

    @property
    def invalid(self) -> int:
        return self.tally.invalid

    @property
    def valid(self) -> int:
        return self.tally.valid

    @property
    def skipped(self) -> int:
        return self.tally.skipped

    @property
    def exit_code(self) -> int:
        return EXIT_USAGE if self.unusable else super().exit_code

    def counts(self) -> dict[str, int]:
        tally = self.tally
        return {
            "files": tally.files,
            "valid": tally.valid,
            "invalid": tally.invalid,
            "unusable": tally.unusable,
            "skipped": tally.skipped,
        }

    # -- views ----------------------------------------------------------------------------
    def data(self) -> dict[str, object]:
        return {**self.counts(), "results": list(self.tally.summary)}

    def json_chunks(self) -> Iterator[str]:
        """JSON Lines: each file's single-file object, one a line, in input order, as read."""
        for entry in self._stream:
            obj = (
                entry.to_json(self.command, judged=not self.describes_only)
                if isinstance(entry, FileProblem | Skipped)
                else entry.to_json()
            )
            yield json.dumps(obj, separators=(",", ":")) + "\n"

    def json_text(self) -> str:
        return "".join(self.json_chunks())

    def lines(self) -> list[str]:
        return [_line(entry) for entry in self._stream]

    def text_chunks(self) -> Iterator[str]:
        """One line per file as it is read, then the totals (``--json`` lists the warnings)."""
        for entry in self._stream:
            yield printable(_line(entry)) + "\n"
        yield printable(self.verdict()) + "\n"

    def totals(self) -> str:
        tally = self.tally
        parts = [plural(tally.files, "file"), f"{tally.valid} valid", f"{tally.invalid} invalid"]
        if tally.unusable:
            parts.append(f"{tally.unusable} unusable")
        if tally.skipped:
            parts.append(f"{tally.skipped} skipped: {SKIPPED}")
        if tally.warnings:
            parts.append(plural(tally.warnings, "warning"))
        return ", ".join(parts)

    def verdict(self) -> str:
        return f"Result: {self.word()} ({self.totals()})"

    def word(self) -> str:
        if self.ok:
            return self.verdict_word
        return "unusable" if self.unusable and not self.invalid else "invalid"

    def text(self) -> str:
        return "".join(self.text_chunks())

    def markdown_body(self) -> list[str]:
        tally = self.tally
        body = md_table(
            ["Result", "Manufacturer", "Image type", "Version", "Size", "Layout", "File", "Problem"],
            tally.rows,
        )
        if tally.files > len(tally.rows):
            body += ["", f"... and {tally.files - len(tally.rows)} more files not listed"]
        return [*body, "", f"**{self.verdict()}**"]

    def markdown(self) -> str:
        status = "✅" if self.ok else "❌"
        lines = [f"### {status} ota-action {self.command} ({plural(self.tally.files, 'file')})", ""]
        return "\n".join([*lines, *self.markdown_body()]) + "\n"

    def output_values(self, workspace: Path) -> dict[str, str]:
        return {name: str(value) for name, value in self.counts().items()}

    def outputs(self, workspace: Path) -> dict[str, str]:
        """Counts, and ``summary-json`` cut to :data:`SUMMARY_LIMIT` bytes (``truncated`` says so)."""
        summary = self.to_json()
        if self.tally.cut:
            summary["truncated"] = True
        text = json.dumps(summary, separators=(",", ":"))
        keep = len(summary["results"])
        while len(text.encode()) > SUMMARY_LIMIT and keep:
            keep //= 2
            cut = {**summary, "results": summary["results"][:keep], "truncated": True}
            cut["findings"] = summary["findings"][:keep]
            cut["warnings"] = summary["warnings"][:keep]
            cut["errors"] = summary["errors"][:keep]
            text = json.dumps(cut, separators=(",", ":"))
        return {**self.output_values(workspace), "summary-json": text}


def _line(entry: Entry) -> str:
    """The file's line of the text summary."""
    word, mfr, kind, version, size, layout, path, problem = _row(entry)
    if isinstance(entry, FileProblem | Skipped):
        return f"{word:<8} {path}: {problem}"
    line = f"{word:<8} {mfr} {kind} {version} {size:>10} bytes  {layout:<16} {path}"
    return f"{line}: {problem}" if problem else line


def _summary_row(entry: Entry) -> dict[str, object]:
    """One file in ``summary-json``: its verdict, identity and first problem."""
    if isinstance(entry, FileProblem | Skipped):
        return {
            "file": str(entry.file),
            "verdict": entry.word,
            "manufacturer_code": None,
            "image_type": None,
            "file_version": None,
            "size": None,
            "layout": None,
            "problem": entry.message if isinstance(entry, FileProblem) else entry.reason,
        }
    if isinstance(entry, MatterInspectResult):
        return entry.summary_row()
    h = entry.ota.header
    return {
        "file": str(entry.file),
        "verdict": entry.word(),
        "manufacturer_code": h.manufacturer_code,
        "image_type": h.image_type,
        "file_version": h.file_version,
        "size": entry.file_size,
        "layout": entry.vendor.layout,
        "problem": _row(entry)[7] or None,
    }


def _word(entry: Entry) -> str:
    return entry.word if isinstance(entry, FileProblem | Skipped) else entry.word()


@record(kw_only=True)
class InspectBatchResult(BatchResult):
    command = "inspect"
    describes_only: ClassVar[bool] = True


@record(kw_only=True)
class VerifyBatchResult(BatchResult):
    command = "verify"
