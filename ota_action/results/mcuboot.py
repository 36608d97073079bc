"""The result of ``mcuboot``: an MCUboot image written."""

from __future__ import annotations

from typing import ClassVar

from ota_action.records import record
from ota_action.results.base import hex_text, md_table
from ota_action.results.written import FileWritten


@record(kw_only=True)
class McubootResult(FileWritten):
    command: ClassVar[str] = "mcuboot"
    verdict_word: ClassVar[str] = "written"
    image_version: str
    header_size: int
    image_size: int
    security_counter: int | None
    signed: bool
    public_key_fingerprint: str | None = None
    padded_to: int | None = None
    signature_algorithm: str | None = None  # ECDSA P-256, Ed25519, RSA-2048, RSA-3072 (the key's)
    reproducible: bool = True  # False: a token, a command or RSA-PSS' random salt

    def data(self) -> dict[str, object]:
        return {
            "outfile": str(self.outfile),
            "size": self.size,
            "sha256": self.sha256,
            "image_version": self.image_version,
            "header_size": self.header_size,
            "image_size": self.image_size,
            "security_counter": self.security_counter,
            "signed": self.signed,
            "public_key_fingerprint": self.public_key_fingerprint,
            "padded_to": self.padded_to,
            "signature_algorithm": self.signature_algorithm,
            "reproducible": self.reproducible,
        }

    def _signed_text(self, *, full: bool = True) -> str:
        if not self.signed:
            return "not signed"
        again = (
            "; not reproducible: a rebuild gives another signature" if full and not self.reproducible else ""
        )
        return f"signed ({self.signature_algorithm}, key {self.public_key_fingerprint}{again})"

    def verdict_facts(self) -> list[str]:
        facts = [f"{self.outfile}, {self.size} bytes", f"version {self.image_version}"]
        return [*facts, self._signed_text(full=False)]

    def lines(self) -> list[str]:
        counter = "none" if self.security_counter is None else str(self.security_counter)
        lines = [
            f"MCUboot image written: {self.outfile} ({self.size} bytes)",
            f"Version: {self.image_version}  Header: {hex_text(self.header_size, 4)} bytes  "
            f"Image: {self.image_size} bytes  Security counter: {counter}",
            f"Signature: {self._signed_text()}",
        ]
        if self.padded_to is not None:
            lines.append(f"Padded to the {self.padded_to}-byte slot, with the trailer")
        return [*lines, f"SHA-256: {self.sha256}"]

    def markdown_body(self) -> list[str]:
        rows: list[tuple[str, object]] = [
            ("File", f"`{self.outfile}`"),
            ("Size", f"{self.size} bytes"),
            ("Version", self.image_version),
            ("Header", f"{self.header_size} bytes"),
            ("Image", f"{self.image_size} bytes"),
            ("Security counter", "none" if self.security_counter is None else self.security_counter),
            ("Signature", self._signed_text()),
            ("SHA-256", f"`{self.sha256}`"),
        ]
        return md_table(["Field", "Value"], rows)
