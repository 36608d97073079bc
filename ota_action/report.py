"""The result every command returns and every front door renders.

``data`` is the JSON form (what ``--json`` prints and the Action's ``summary-json``
output carries); text and Markdown are rendered from it by :mod:`ota_action.render`,
so the three views cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ota_action.errors import EXIT_INVALID, EXIT_OK


@dataclass
class Report:
    command: str
    data: dict[str, Any]
    ok: bool = True
    outfile: Path | None = None
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_INVALID

    def as_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "ok": self.ok,
            **self.data,
            "warnings": self.warnings,
            "errors": self.errors,
        }
