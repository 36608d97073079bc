"""The entries of a batch that are not a file's own result: a path that gave none
(:class:`FileProblem`) and a found file that is no OTA file (:class:`Skipped`), each with
the single-file JSON envelope it is printed in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ota_action.formats.zigbee.checks import Finding
from ota_action.records import record
from ota_action.results.base import SCHEMA_VERSION, finding_json
from ota_action.results.matter import MatterInspectResult
from ota_action.results.ota import InspectResult

UNUSABLE = "input"  # finding code of a path that could not be used (exit 2)
NOT_OTA = "format"  # finding code of a file that is no OTA file nor a known container (exit 1)
SKIPPED = "not an OTA file"  # why a file a folder walk or a glob found was skipped


@record
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

    def to_json(self, command: str, *, judged: bool) -> dict[str, Any]:
        """The single-file envelope: what ``--json`` would say had it produced an object."""
        out: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "command": command,
            "ok": False,
            "file": str(self.file),
        }
        if judged:  # verify says valid: a problem is not valid, a skipped file neither way
            out["valid"] = False
        return {
            **out,
            "warnings": [],
            "errors": [self.message],
            "findings": [finding_json(self.finding)],
        }


@record
class Skipped:
    """A file a folder walk or a glob found that is no OTA file (a payload beside them)."""

    file: Path
    reason: str = SKIPPED
    word = "skipped"

    def to_json(self, command: str, *, judged: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "command": command,
            "ok": True,
            "file": str(self.file),
            "skipped": self.reason,
        }
        if judged:  # verify says valid: a problem is not valid, a skipped file neither way
            out["valid"] = None
        return {**out, "warnings": [], "errors": [], "findings": []}


Entry = InspectResult | MatterInspectResult | FileProblem | Skipped
