"""The results of ``inspect``/``verify`` on a bare GBL file (no Zigbee OTA header around it)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from ota_action.formats.zigbee.silabs import SilabsPayload
from ota_action.records import record
from ota_action.results.base import Result, md_escape, md_table, verdict_data


@record(kw_only=True)
class GblInspectResult(Result):
    """A bare GBL file read: its tags, CRC, and whether it is signed, encrypted or compressed.

    ``gbl`` is the same typed payload an OTA file's GBL upgrade image is, at offset 0.
    """

    command: ClassVar[str] = "inspect"
    describes_only: ClassVar[bool] = True  # inspect never fails a file
    file: Path
    size: int
    sha256: str
    gbl: SilabsPayload

    def data(self) -> dict[str, object]:
        return {"file": str(self.file), "size": self.size, "sha256": self.sha256, "gbl": self.gbl.to_json()}

    def _tags(self) -> list[str]:
        listed = [f"  {t.to_json()['tag']}  {t.length} bytes at offset {t.offset}" for t in self.gbl.tags]
        unlisted = self.gbl.tag_count - len(self.gbl.tags)
        return [*listed, *([f"  ... and {unlisted} more tags"] if unlisted > 0 else [])]

    def features(self) -> str:
        return ", ".join(self.gbl.features) or "not signed, not encrypted, not compressed"

    def lines(self) -> list[str]:
        crc = self.gbl.crc32_stored
        check = "CRC-32 " + (f"0x{crc:08X} matches" if self.gbl.valid else f"invalid: {self.gbl.problem}")
        return [
            f"File: {self.file}",
            f"  {self.size} bytes, SHA-256 {self.sha256}",
            f"GBL3 file: {self.gbl.tag_count} tags, {self.features()}; {check}",
            "Tags:",
            *self._tags(),
        ]

    def markdown_body(self) -> list[str]:
        rows = [(t.to_json()["tag"], t.length, t.offset) for t in self.gbl.tags]
        return [
            f"**File:** `{md_escape(self.file)}` ({self.size} bytes), GBL3: {md_escape(self.features())}",
            "",
            *md_table(("Tag", "Length", "Offset"), rows),
        ]

    def verdict_facts(self) -> list[str]:
        return [f"GBL3, {self.gbl.tag_count} tags"]


@record(kw_only=True)
class GblVerifyResult(GblInspectResult):
    """A bare GBL file judged: a bad CRC or structure, or a signature that does not verify, is an error."""

    command: ClassVar[str] = "verify"
    describes_only: ClassVar[bool] = False
    signature: str | None = None

    def data(self) -> dict[str, object]:
        return verdict_data(super().data(), self.ok, self.signature)

    def lines(self) -> list[str]:
        return [*super().lines(), *([f"GBL signature: {self.signature}"] if self.signature else [])]

    def verdict_facts(self) -> list[str]:
        return [*super().verdict_facts(), *(["signature verified"] if self.signature is not None else [])]
