"""The rules ``verify`` applies to a parsed OTA file, as a list of findings.

Errors make a file invalid; warnings describe things real devices tolerate or that
real vendors do (bytes after the image, the non-standard integrity variants).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ota_action.zigbee.elements import (
    IMAGE_INTEGRITY_CODE,
    SIGNATURE_TAGS,
    UPGRADE_IMAGE,
    tag_name,
)
from ota_action.zigbee.header import FC_KNOWN, HEADER_VERSION, header_size
from ota_action.zigbee.image import ParsedImage
from ota_action.zigbee.integrity import MAX_INPUT, IntegrityVariant


class Level(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    level: Level
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"level": self.level.value, "code": self.code, "message": self.message}


_VARIANT_TEXT = {
    IntegrityVariant.COVERS_TAG_HEADER: (
        "integrity code uses the non-standard 'covers-tag-header' variant (NodOn-style: "
        "the hash also covers the 0x0003 tag id and length)"
    ),
    IntegrityVariant.SHORT_PADDING_ONLY: (
        "integrity code uses the non-standard 'short-padding-only' variant (Develco-style "
        "AES-MMO with a 16-bit length field, wrong for 8192 bytes and more)"
    ),
}


def check_image(parsed: ParsedImage) -> list[Finding]:
    """Every rule of ``verify`` except the magic number (the parser enforces that)."""
    h = parsed.header
    out: list[Finding] = []

    def error(code: str, message: str) -> None:
        out.append(Finding(Level.ERROR, code, message))

    def warning(code: str, message: str) -> None:
        out.append(Finding(Level.WARNING, code, message))

    if h.header_version != HEADER_VERSION:
        error(
            "header-version",
            f"header version 0x{h.header_version:04X} is not the Zigbee OTA version 0x0100",
        )
    needed = header_size(h.field_control)
    if h.header_length != needed:
        warning(
            "header-length",
            f"header length {h.header_length} is larger than the {needed} bytes field control "
            f"0x{h.field_control:04X} implies; sub-elements start at {h.header_length}",
        )
    if h.field_control & ~FC_KNOWN:
        warning("field-control", f"field control 0x{h.field_control:04X} sets reserved bits")
    if (
        h.minimum_hardware_version is not None
        and h.maximum_hardware_version is not None
        and h.minimum_hardware_version > h.maximum_hardware_version
    ):
        error(
            "hardware-versions",
            f"minimum hardware version 0x{h.minimum_hardware_version:04X} is above the "
            f"maximum 0x{h.maximum_hardware_version:04X}",
        )
    if parsed.trailing_bytes:
        warning(
            "trailing-bytes",
            f"{parsed.trailing_bytes} bytes after the total image size {h.total_image_size} "
            "are not part of the image",
        )
    if parsed.walk_problem:
        error("sub-elements", parsed.walk_problem)
    counts = parsed.tag_counts
    for tag, count in sorted(counts.items()):
        if count < 2:
            continue
        text = f"tag 0x{tag:04X} ({tag_name(tag)}) appears {count} times"
        if tag == UPGRADE_IMAGE:
            warning("duplicate-tag", text)
        else:
            error("duplicate-tag", text)
    last = parsed.last_element
    if IMAGE_INTEGRITY_CODE in counts and last is not None and last.tag != IMAGE_INTEGRITY_CODE:
        warning("integrity-position", "the integrity code 0x0003 is not the last sub-element")
    for tag in sorted(set(counts) & SIGNATURE_TAGS):
        warning(
            "signature-unverifiable",
            f"tag 0x{tag:04X} ({tag_name(tag)}) cannot be verified: Smart Energy suites use "
            "binary Koblitz curves, which cryptography does not support",
        )
    integrity = parsed.integrity
    if integrity.present:
        if integrity.variant is None and integrity.offset is not None and integrity.offset >= MAX_INPUT:
            error(
                "integrity",
                f"the integrity code covers {integrity.offset} bytes, past AES-MMO's limit of {MAX_INPUT} "
                "(2^29) bytes, and does not match the 16-bit short-padding-only form either",
            )
        elif integrity.variant is None:
            error("integrity", "the integrity code does not match the file under any known rule")
        elif integrity.variant in _VARIANT_TEXT:
            warning("integrity-variant", _VARIANT_TEXT[integrity.variant])
    return out


def is_valid(findings: list[Finding]) -> bool:
    return not any(f.level is Level.ERROR for f in findings)
