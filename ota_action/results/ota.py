"""Results of the Zigbee OTA commands (``zbota``, ``inspect``, ``verify``) and the OTA
description they share (also used by ``xbee-fs``, whose output is an OTA file)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ota_action.results.base import Result, md_escape, md_table, relative_to
from ota_action.zigbee.elements import ELEMENTS_LISTED, tag_name
from ota_action.zigbee.header import MAGIC, OtaHeader
from ota_action.zigbee.image import IntegrityResult, ParsedImage


def _hex(value: int | None, digits: int) -> str:
    return "-" if value is None else f"0x{value:0{digits}x}"


@dataclass(frozen=True)
class ElementRow:
    """One sub-element as a summary lists it; ``source`` says where a built one came from."""

    tag: int
    length: int
    offset: int
    source: str | None = None
    address_range: str | None = None  # of a .hex file converted to the element's data

    @property
    def name(self) -> str:
        return tag_name(self.tag)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "tag": self.tag,
            "length": self.length,
            "offset": self.offset,
            "name": self.name,
        }
        if self.source is not None:
            out["source"] = self.source
        if self.address_range is not None:
            out["address_range"] = self.address_range
        return out


@dataclass(frozen=True)
class OtaSummary:
    """Everything a summary says about one OTA file: header, sub-elements, integrity."""

    header: OtaHeader
    sub_elements: tuple[ElementRow, ...]
    integrity: IntegrityResult
    file_size: int
    trailing_bytes: int = 0
    elements_total: int = 0  # all sub-elements; ``sub_elements`` lists at most ELEMENTS_LISTED

    @classmethod
    def of(cls, parsed: ParsedImage) -> OtaSummary:
        listed = parsed.elements[:ELEMENTS_LISTED]
        return cls(
            header=parsed.header,
            sub_elements=tuple(ElementRow(e.tag, e.length, e.offset) for e in listed),
            integrity=parsed.integrity,
            file_size=parsed.file_size,
            trailing_bytes=parsed.trailing_bytes,
            elements_total=max(parsed.elements_total, len(parsed.elements)),
        )

    @property
    def sub_elements_total(self) -> int:
        return max(self.elements_total, len(self.sub_elements))

    def unlisted_note(self) -> str | None:
        """The line that says how many sub-elements were not listed, if any."""
        total, listed = self.sub_elements_total, len(self.sub_elements)
        if total <= listed:
            return None
        return f"... and {total - listed} more sub-elements not listed ({total} in all)"

    def with_sources(self, sources: tuple[ElementRow, ...]) -> OtaSummary:
        return replace(self, sub_elements=sources)

    def to_json(self) -> dict[str, object]:
        """Snake_case spec names, integers as numbers."""
        h = self.header
        dest = h.upgrade_file_destination
        integrity = self.integrity
        return {
            "header_version": h.header_version,
            "header_length": h.header_length,
            "field_control": int(h.field_control),
            "manufacturer_code": h.manufacturer_code,
            "image_type": h.image_type,
            "file_version": h.file_version,
            "zigbee_stack_version": h.zigbee_stack_version,
            "header_string": h.header_string_text,
            "header_string_hex": h.header_string.hex(),
            "total_image_size": h.total_image_size,
            "security_credential_version": h.security_credential_version,
            "upgrade_file_destination": None if dest is None else f"{dest:016X}",
            "minimum_hardware_version": h.minimum_hardware_version,
            "maximum_hardware_version": h.maximum_hardware_version,
            "sub_elements": [e.to_json() for e in self.sub_elements],
            "sub_elements_total": self.sub_elements_total,
            "sub_elements_listed": len(self.sub_elements),
            "trailing_bytes": self.trailing_bytes,
            "file_size": self.file_size,
            "integrity": {
                "present": integrity.present,
                "valid": integrity.valid,
                "variant": None if integrity.variant is None else integrity.variant.value,
                "stored": None if integrity.stored is None else integrity.stored.hex(),
            },
        }

    def header_rows(self) -> list[tuple[str, str]]:
        h = self.header
        dest = h.upgrade_file_destination
        rows = [
            ("OTA File ID", f"0x{MAGIC:08x}"),
            ("Header Version", _hex(h.header_version, 4)),
            ("Header Length", f"{h.header_length} bytes"),
            ("Field Control", _hex(h.field_control, 4)),
            ("Manufacturer ID", _hex(h.manufacturer_code, 4)),
            ("Image Type", _hex(h.image_type, 4)),
            ("Firmware Version", _hex(h.file_version, 8)),
            ("Stack Version", _hex(h.zigbee_stack_version, 4)),
            ("Header String", h.header_string_text),
            ("Total Image Size", f"{h.total_image_size} bytes"),
        ]
        if h.security_credential_version is not None:
            rows.append(("Security Credential Version", str(h.security_credential_version)))
        if dest is not None:
            rows.append(("Upgrade File Destination", f"{dest:016X}"))
        if h.minimum_hardware_version is not None:
            rows.append(("Minimum Hardware Version", _hex(h.minimum_hardware_version, 4)))
            rows.append(("Maximum Hardware Version", _hex(h.maximum_hardware_version, 4)))
        return rows

    def integrity_text(self) -> str:
        integrity = self.integrity
        if not integrity.present:
            return "none"
        stored = None if integrity.stored is None else integrity.stored.hex()
        if integrity.valid and integrity.variant is not None:
            return f"valid ({integrity.variant.value}) {stored}"
        return f"INVALID (stored {stored})"

    def text_lines(self) -> list[str]:
        lines = ["Zigbee OTA Header:"]
        lines += [f"  {name}: {value}" for name, value in self.header_rows()]
        lines.append("Sub-elements:")
        for e in self.sub_elements:
            line = f"  Tag ID: 0x{e.tag:04x} ({e.name})  Length: {e.length} bytes  Offset: {e.offset}"
            if e.source:
                line += f"  Source: {e.source}"
            lines.append(line)
            if e.address_range:
                lines.append(f"    HEX address range: {e.address_range}")
        if (note := self.unlisted_note()) is not None:
            lines.append(f"  {note}")
        lines.append(f"Integrity code: {self.integrity_text()}")
        if self.trailing_bytes:
            lines.append(f"Trailing bytes after total image size: {self.trailing_bytes}")
        return lines

    def markdown_lines(self, path: Path, size: int) -> list[str]:
        lines = [f"**File:** {md_escape(path)} ({size} bytes)", ""]
        lines += md_table(["Field", "Value"], self.header_rows())
        lines += ["", "**Sub-elements**", ""]
        lines += md_table(
            ["Tag", "Name", "Length", "Offset", "Source"],
            [[f"0x{e.tag:04X}", e.name, e.length, e.offset, e.source or ""] for e in self.sub_elements],
        )
        if (note := self.unlisted_note()) is not None:
            lines += ["", note]
        lines += ["", f"**Integrity code:** {self.integrity_text()}"]
        return lines

    def output_values(self) -> dict[str, str]:
        return {"file-version": f"0x{self.header.file_version:08x}"}


def sha_markdown(sha256: str) -> list[str]:
    return ["", f"**SHA-256:** `{sha256}`"]


@dataclass(frozen=True, kw_only=True)
class ZbotaResult(Result):
    """A Zigbee OTA file written."""

    command = "zbota"
    outfile: Path
    size: int
    sha256: str
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

    def output_values(self, workspace: Path) -> dict[str, str]:
        return {
            "ota-file": relative_to(self.outfile, workspace) or str(self.outfile),
            "sha256": self.sha256,
            "size": str(self.size),
            **self.ota.output_values(),
        }

    def written(self) -> tuple[Path, ...]:
        return (self.outfile,)


@dataclass(frozen=True, kw_only=True)
class InspectResult(Result):
    """An OTA file read and described; its problems are warnings (inspect never fails)."""

    command = "inspect"
    file: Path
    sha256: str
    ota: OtaSummary

    def data(self) -> dict[str, object]:
        return {"file": str(self.file), "sha256": self.sha256, **self.ota.to_json()}

    def lines(self) -> list[str]:
        return [
            f"File: {self.file} ({self.ota.file_size} bytes, sha256 {self.sha256})",
            *self.ota.text_lines(),
        ]

    def markdown_body(self) -> list[str]:
        return [*self.ota.markdown_lines(self.file, self.ota.file_size), *sha_markdown(self.sha256)]

    def output_values(self, workspace: Path) -> dict[str, str]:
        return {"sha256": self.sha256, "size": str(self.ota.file_size), **self.ota.output_values()}


@dataclass(frozen=True, kw_only=True)
class VerifyResult(InspectResult):
    """An OTA file judged: errors make it invalid (exit 1).  ``signature`` is the verdict of
    ``--public-key``, when one was given."""

    command = "verify"
    signature: str | None = None

    def data(self) -> dict[str, object]:
        out = super().data()
        if self.signature is not None:
            out["signature"] = self.signature
        out["valid"] = self.ok
        return out

    def lines(self) -> list[str]:
        lines = super().lines()
        if self.signature:
            lines.append(f"XBee file-system signature: {self.signature}")
        lines.append("Result: " + ("VALID" if self.ok else "INVALID"))
        return lines

    def markdown_body(self) -> list[str]:
        body = self.ota.markdown_lines(self.file, self.ota.file_size)
        if self.signature:
            body += ["", f"**Signature:** {self.signature}"]
        return [*body, *sha_markdown(self.sha256)]
