"""The result of ``zbota``: a Zigbee OTA file written.

Apart from :mod:`ota_action.results.ota`, so ``verify`` and ``inspect`` (which import that
module) do not create this class, and ``zbota`` does not create theirs (issue 25).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from ota_action.records import record
from ota_action.results.base import sha_markdown
from ota_action.results.summary import OtaSummary
from ota_action.results.written import FileWritten


@record(kw_only=True)
class ZbotaResult(FileWritten):
    """A Zigbee OTA file written."""

    command = "zbota"
    ota: OtaSummary

    def data(self) -> dict[str, object]:
        return {"outfile": str(self.outfile), "size": self.size, "sha256": self.sha256, **self.ota.to_json()}

    def lines(self) -> list[str]:
        return [
            *self.ota.text_lines(),
            f"File size: {self.size} bytes",
            f"SHA-256: {self.sha256}",
            f"OTA image generated and saved to: {self.outfile}",
        ]

    def markdown_body(self) -> list[str]:
        return [*self.ota.markdown_lines(self.outfile, self.size), *sha_markdown(self.sha256)]

    verdict_word: ClassVar[str] = "written"

    def verdict_facts(self) -> list[str]:
        return [f"{self.outfile}, {self.size} bytes", *self.ota.verdict_facts()]

    def output_values(self, workspace: Path) -> dict[str, str]:
        return {**super().output_values(workspace), **self.ota.output_values()}
