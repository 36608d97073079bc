"""The result of ``inspect``/``verify`` on many files: one entry per file, in input order.

Each entry is the file's own result (exactly what the single-file command returns) or
a :class:`FileProblem` (a path that could not be used, or a file that is not an OTA
file).  The views:

- ``json_text()`` - JSON Lines, one object per file: the single-file ``--json`` object
  (which starts its own keys with ``file``); a problem is the same envelope with its
  one error;
- ``to_json()`` - one object (the Action's ``summary-json``): counts and one short row
  per file; ``outputs()`` caps it (GitHub limits an output to 1 MiB) and says so;
- ``text()`` - one line per file (verdict, manufacturer, image type, version, size,
  layout, file, first problem) and the totals; ``markdown()`` - the same as a table;
- ``exit_code`` - 2 when any path was unusable, else 1 when any file is invalid, else 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ota_action.errors import EXIT_USAGE
from ota_action.formats.zigbee.checks import Finding, Level
from ota_action.results.base import SCHEMA_VERSION, Result, finding_json, hex_text, md_table, plural
from ota_action.results.ota import InspectResult
from ota_action.safe_text import printable

UNUSABLE = "input"  # finding code of a path that could not be used (exit 2)
NOT_OTA = "format"  # finding code of a file that is no OTA file nor a known container (exit 1)
SUMMARY_LIMIT = 512 * 1024  # bytes of summary-json; GitHub takes at most 1 MiB per output
MARKDOWN_ROWS = 2000  # rows of the step-summary table (GitHub takes at most 1 MiB per step)


@dataclass(frozen=True)
class FileProblem:
    """A path of a batch that gave no result: ``code`` is :data:`UNUSABLE` or :data:`NOT_OTA`."""

    file: Path
    code: str
    message: str

    @property
    def unusable(self) -> bool:
        return self.code == UNUSABLE

    @property
    def word(self) -> str:
        return "unusable" if self.unusable else "invalid"

    @property
    def finding(self) -> Finding:
        return Finding.error(self.code, self.message)

    def to_json(self, command: str) -> dict[str, Any]:
        """The single-file envelope: what ``--json`` would say had it produced an object."""
        out: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "command": command,
            "ok": False,
            "file": str(self.file),
        }
        if command == "verify":
            out["valid"] = False
        return {
            **out,
            "warnings": [],
            "errors": [self.message],
            "findings": [finding_json(self.finding)],
        }


Entry = InspectResult | FileProblem


def batch_findings(entries: tuple[Entry, ...]) -> tuple[Finding, ...]:
    """Every file's findings, each message prefixed with its file."""
    out: list[Finding] = []
    for entry in entries:
        found = (entry.finding,) if isinstance(entry, FileProblem) else entry.findings
        out += [Finding(f.level, f.code, f"{entry.file}: {f.message}") for f in found]
    return tuple(out)


def _row(entry: Entry) -> list[str]:
    """Verdict, manufacturer, image type, version, size, layout, file, first problem
    (the first error, else the first warning)."""
    if isinstance(entry, FileProblem):
        return [entry.word, "-", "-", "-", "-", "-", str(entry.file), entry.message]
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


@dataclass(frozen=True, kw_only=True)
class BatchResult(Result):
    """``inspect``/``verify`` on several files (the subclasses name the command)."""

    entries: tuple[Entry, ...]

    # -- counts -------------------------------------------------------------------------
    @property
    def unusable(self) -> int:
        return sum(1 for e in self.entries if isinstance(e, FileProblem) and e.unusable)

    @property
    def invalid(self) -> int:
        return sum(1 for e in self.entries if _word(e) == "invalid")

    @property
    def valid(self) -> int:
        return len(self.entries) - self.invalid - self.unusable

    @property
    def exit_code(self) -> int:
        return EXIT_USAGE if self.unusable else super().exit_code

    def counts(self) -> dict[str, int]:
        return {
            "files": len(self.entries),
            "valid": self.valid,
            "invalid": self.invalid,
            "unusable": self.unusable,
        }

    # -- views ----------------------------------------------------------------------------
    def data(self) -> dict[str, object]:
        return {**self.counts(), "results": [_summary_row(e) for e in self.entries]}

    def json_text(self) -> str:
        """JSON Lines: each file's single-file object, one a line, in input order."""
        lines = [
            json.dumps(
                e.to_json(self.command) if isinstance(e, FileProblem) else e.to_json(), separators=(",", ":")
            )
            for e in self.entries
        ]
        return "".join(line + "\n" for line in lines)

    def lines(self) -> list[str]:
        out = []
        for entry in self.entries:
            word, mfr, kind, version, size, layout, path, problem = _row(entry)
            if isinstance(entry, FileProblem):
                out.append(f"{word:<8} {path}: {problem}")
                continue
            line = f"{word:<8} {mfr} {kind} {version} {size:>10} bytes  {layout:<16} {path}"
            out.append(f"{line}: {problem}" if problem else line)
        return out

    def totals(self) -> str:
        parts = [plural(len(self.entries), "file"), f"{self.valid} valid", f"{self.invalid} invalid"]
        if self.unusable:
            parts.append(f"{self.unusable} unusable")
        warnings = sum(1 for f in self.findings if f.level is Level.WARNING)
        if warnings:
            parts.append(plural(warnings, "warning"))
        return ", ".join(parts)

    def verdict(self) -> str:
        return f"Result: {self.word()} ({self.totals()})"

    def word(self) -> str:
        if self.ok:
            return self.verdict_word
        return "unusable" if self.unusable and not self.invalid else "invalid"

    def text(self) -> str:
        """One line per file and the totals (warnings are counted; ``--json`` lists them)."""
        return "\n".join(printable(line) for line in [*self.lines(), self.verdict()]) + "\n"

    def markdown_body(self) -> list[str]:
        rows = [_row(e) for e in self.entries[:MARKDOWN_ROWS]]
        body = md_table(
            ["Result", "Manufacturer", "Image type", "Version", "Size", "Layout", "File", "Problem"], rows
        )
        if len(self.entries) > MARKDOWN_ROWS:
            body += ["", f"... and {len(self.entries) - MARKDOWN_ROWS} more files not listed"]
        return [*body, "", f"**{self.verdict()}**"]

    def markdown(self) -> str:
        status = "✅" if self.ok else "❌"
        lines = [f"### {status} ota-action {self.command} ({plural(len(self.entries), 'file')})", ""]
        return "\n".join([*lines, *self.markdown_body()]) + "\n"

    def output_values(self, workspace: Path) -> dict[str, str]:
        return {name: str(value) for name, value in self.counts().items()}

    def outputs(self, workspace: Path) -> dict[str, str]:
        """Counts, and ``summary-json`` cut to :data:`SUMMARY_LIMIT` bytes (``truncated`` says so)."""
        summary = self.to_json()
        text = json.dumps(summary, separators=(",", ":"))
        keep = len(self.entries)
        while len(text.encode()) > SUMMARY_LIMIT and keep:
            keep //= 2
            cut = {**summary, "results": summary["results"][:keep], "truncated": True}
            cut["findings"] = summary["findings"][:keep]
            cut["warnings"] = summary["warnings"][:keep]
            cut["errors"] = summary["errors"][:keep]
            text = json.dumps(cut, separators=(",", ":"))
        return {**self.output_values(workspace), "summary-json": text}


def _summary_row(entry: Entry) -> dict[str, object]:
    """One file in ``summary-json``: its verdict, identity and first problem."""
    if isinstance(entry, FileProblem):
        return {
            "file": str(entry.file),
            "verdict": entry.word,
            "manufacturer_code": None,
            "image_type": None,
            "file_version": None,
            "size": None,
            "layout": None,
            "problem": entry.message,
        }
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
    return entry.word if isinstance(entry, FileProblem) else entry.word()


@dataclass(frozen=True, kw_only=True)
class InspectBatchResult(BatchResult):
    command = "inspect"


@dataclass(frozen=True, kw_only=True)
class VerifyBatchResult(BatchResult):
    command = "verify"
