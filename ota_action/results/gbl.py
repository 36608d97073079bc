"""The result of ``gbl``: a GBL3 file written, and how it was made."""

from __future__ import annotations

from typing import ClassVar

from ota_action.records import record
from ota_action.results.base import hex_text, md_table
from ota_action.results.written import FileWritten


@record(kw_only=True)
class GblResult(FileWritten):
    """A GBL3 file: where the program data goes, and whether it is compressed, encrypted, signed."""

    command: ClassVar[str] = "gbl"
    verdict_word: ClassVar[str] = "written"
    address: int
    image_size: int
    compression: str | None
    encrypted: bool
    signed: bool
    public_key_fingerprint: str | None = None

    def data(self) -> dict[str, object]:
        return {
            "outfile": str(self.outfile),
            "size": self.size,
            "sha256": self.sha256,
            "address": hex_text(self.address, 8),
            "image_size": self.image_size,
            "compression": self.compression,
            "encrypted": self.encrypted,
            "signed": self.signed,
            "public_key_fingerprint": self.public_key_fingerprint,
        }

    def _facts(self) -> list[str]:
        facts = [f"compressed with {self.compression}" if self.compression else "not compressed"]
        facts.append("encrypted (AES-128-CTR)" if self.encrypted else "not encrypted")
        facts.append(f"signed (key {self.public_key_fingerprint})" if self.signed else "not signed")
        return facts

    def verdict_facts(self) -> list[str]:
        return [f"{self.outfile}, {self.size} bytes", *self._facts()]

    def lines(self) -> list[str]:
        end = self.address + self.image_size - 1
        return [
            f"GBL3 file written: {self.outfile} ({self.size} bytes)",
            f"Program data: {self.image_size} bytes at {hex_text(self.address, 8)}-{hex_text(end, 8)}",
            "Image: " + ", ".join(self._facts()),
            f"SHA-256: {self.sha256}",
        ]

    def markdown_body(self) -> list[str]:
        rows: list[tuple[str, object]] = [
            ("File", f"`{self.outfile}`"),
            ("Size", f"{self.size} bytes"),
            ("Program data", f"{self.image_size} bytes at `{hex_text(self.address, 8)}`"),
            ("Compression", self.compression or "none"),
            ("Encrypted", "yes" if self.encrypted else "no"),
            ("Signed", f"yes, key `{self.public_key_fingerprint}`" if self.signed else "no"),
            ("SHA-256", f"`{self.sha256}`"),
        ]
        return md_table(["Field", "Value"], rows)
