"""Build and parse whole OTA upgrade files.

:func:`build_image` writes the layout ota-action promises: sub-elements in the order
given, an optional 0xFFFF padding element so the first upgrade image's data starts on
an ``align`` boundary, and the integrity code last, computed (rule A) over every byte
before it with the total image size already counting it.

:func:`parse_image` reads any file, ours or a vendor's, without trusting it: the walk
is bounded by the total image size, bytes after it are reported, never absorbed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ota_action.errors import InputError
from ota_action.zigbee.elements import (
    IMAGE_INTEGRITY_CODE,
    PADDING,
    TAG_HEADER_SIZE,
    UPGRADE_IMAGE,
    ElementRef,
    SubElement,
    encode_tag_header,
    tag_name,
    walk,
)
from ota_action.zigbee.header import OtaHeader, decode_header, encode_header
from ota_action.zigbee.integrity import DIGEST_SIZE, IntegrityVariant, integrity_code, match_integrity

INTEGRITY_ELEMENT_SIZE = TAG_HEADER_SIZE + DIGEST_SIZE
MAX_TOTAL_SIZE = 0xFFFFFFFF


def padding_length(data_start: int, align: int) -> int | None:
    """Data length of the 0xFFFF element that moves ``data_start`` onto a multiple of ``align``.

    ``data_start`` is where the upgrade image's data would begin without padding.  None
    means no padding element is needed; otherwise the element (6-byte header plus the
    returned length) is the smallest that lands the data on the boundary.
    """
    if align < 1:
        raise ValueError("align must be positive")
    if data_start % align == 0:
        return None
    return (-(data_start + TAG_HEADER_SIZE)) % align


def build_image(
    header: OtaHeader,
    elements: Sequence[SubElement],
    *,
    integrity: bool = False,
    align: int | None = None,
    fill: int = 0xFF,
) -> bytes:
    """Assemble an OTA file from a header made by :meth:`OtaHeader.create` and its elements."""
    parts = list(elements)
    if align is not None:
        firsts = [i for i, e in enumerate(parts) if e.tag == UPGRADE_IMAGE]
        if not firsts:
            raise InputError(
                "needs an upgrade image (tag 0x0000) whose data it can align",
                field="align",
                value=str(align),
            )
        index = firsts[0]
        before = header.header_length + sum(TAG_HEADER_SIZE + len(e.data) for e in parts[:index])
        pad = padding_length(before + TAG_HEADER_SIZE, align)
        if pad is not None:
            parts.insert(index, SubElement(PADDING, bytes([fill]) * pad))
    total = header.header_length + sum(TAG_HEADER_SIZE + len(e.data) for e in parts)
    if integrity:
        total += INTEGRITY_ELEMENT_SIZE
    if total > MAX_TOTAL_SIZE:
        raise InputError(
            f"the file would be {total} bytes; the total image size field holds at most {MAX_TOTAL_SIZE}",
            field="tags",
        )
    out = bytearray(encode_header(header.with_total_size(total)))
    for element in parts:
        out += encode_tag_header(element.tag, len(element.data))
        out += element.data
    if integrity:
        digest = integrity_code(bytes(out))
        out += encode_tag_header(IMAGE_INTEGRITY_CODE, DIGEST_SIZE) + digest
    if len(out) != total:  # pragma: no cover - a bug in the size arithmetic above
        raise RuntimeError(f"built {len(out)} bytes but the header says {total}")
    return bytes(out)


@dataclass(frozen=True)
class IntegrityResult:
    present: bool
    valid: bool | None
    variant: IntegrityVariant | None
    stored: bytes | None = None
    offset: int | None = None


@dataclass(frozen=True)
class ParsedImage:
    """Everything a reader can say about a file; no field raises when accessed."""

    header: OtaHeader
    file_size: int
    elements: tuple[ElementRef, ...]
    walk_problem: str | None
    integrity: IntegrityResult

    @property
    def image_end(self) -> int:
        return min(self.header.total_image_size, self.file_size)

    @property
    def trailing_bytes(self) -> int:
        return max(0, self.file_size - self.header.total_image_size)

    def element_data(self, data: bytes | memoryview, ref: ElementRef) -> bytes:
        return bytes(memoryview(data)[ref.data_offset : ref.end])


def parse_image(data: bytes | memoryview, *, built_here: bool = False) -> ParsedImage:
    """Decode ``data`` as an OTA file.  Only a missing or wrong header raises (FormatError).

    ``built_here`` is for bytes :func:`build_image` has just returned: their integrity
    code was computed (rule A) a moment ago, so it is reported as standard instead of
    being hashed a second time, which would double the cost of ``zbota --integrity``.
    """
    header = decode_header(data)
    size = len(data)
    stop = min(header.total_image_size, size)
    if header.total_image_size < header.header_length:
        found = walk(data, header.header_length, header.header_length)
        problem: str | None = (
            f"total image size {header.total_image_size} is smaller than the header length "
            f"{header.header_length}"
        )
    else:
        found = walk(data, header.header_length, stop)
        problem = found.problem
        if problem is None and header.total_image_size > size:
            problem = f"total image size {header.total_image_size} is beyond the end of the {size}-byte file"
    return ParsedImage(
        header=header,
        file_size=size,
        elements=found.elements,
        walk_problem=problem,
        integrity=check_integrity(data, found.elements, assume_standard=built_here),
    )


def check_integrity(
    data: bytes | memoryview, elements: Sequence[ElementRef], *, assume_standard: bool = False
) -> IntegrityResult:
    """Check the first 0x0003 element against every known coverage rule."""
    refs = [e for e in elements if e.tag == IMAGE_INTEGRITY_CODE]
    if not refs:
        return IntegrityResult(present=False, valid=None, variant=None)
    ref = refs[0]
    stored = bytes(memoryview(data)[ref.data_offset : ref.end])
    if ref.length != DIGEST_SIZE:
        return IntegrityResult(True, False, None, stored, ref.offset)
    if assume_standard:
        return IntegrityResult(True, True, IntegrityVariant.STANDARD, stored, ref.offset)
    variant = match_integrity(data, ref.offset, stored)
    return IntegrityResult(True, variant is not None, variant, stored, ref.offset)


def describe(parsed: ParsedImage) -> dict[str, Any]:
    """The JSON form of a parsed file: snake_case spec names, integers as numbers."""
    h = parsed.header
    dest = h.upgrade_file_destination
    integrity = parsed.integrity
    return {
        "header_version": h.header_version,
        "header_length": h.header_length,
        "field_control": h.field_control,
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
        "sub_elements": [
            {"tag": e.tag, "length": e.length, "offset": e.offset, "name": tag_name(e.tag)}
            for e in parsed.elements
        ],
        "trailing_bytes": parsed.trailing_bytes,
        "file_size": parsed.file_size,
        "integrity": {
            "present": integrity.present,
            "valid": integrity.valid,
            "variant": None if integrity.variant is None else integrity.variant.value,
            "stored": None if integrity.stored is None else integrity.stored.hex(),
        },
    }


def rebuild_inputs(data: bytes, parsed: ParsedImage) -> tuple[OtaHeader, list[SubElement], bool]:
    """The header and elements that :func:`build_image` needs to reproduce ``parsed``.

    Used to prove the writer against real files: padding elements are kept as ordinary
    elements and an integrity element, if last, becomes ``integrity=True``.
    """
    refs = list(parsed.elements)
    integrity = bool(refs) and refs[-1].tag == IMAGE_INTEGRITY_CODE
    if integrity:
        refs = refs[:-1]
    header = replace(parsed.header, total_image_size=0)
    return header, [SubElement(r.tag, parsed.element_data(data, r)) for r in refs], integrity


__all__ = [
    "INTEGRITY_ELEMENT_SIZE",
    "PADDING",
    "IntegrityResult",
    "ParsedImage",
    "build_image",
    "check_integrity",
    "describe",
    "padding_length",
    "parse_image",
    "rebuild_inputs",
]
