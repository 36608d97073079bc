"""The rules ``verify`` applies to a parsed OTA file, as a list of findings.

Errors make a file invalid; warnings describe things real devices tolerate or that
real vendors do (bytes after the image, the non-standard integrity variants, the
Telink and Hue layouts, repeated manufacturer tags); notes report what was recognised
and checked and found right (a Salus CRC-32 trailer, a container).

What the vendor recognisers found (``layouts``, ``containers``, ``trailers``,
``payload``) is passed in by the caller; without it the rules are the standard ones.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ota_action.formats.zigbee.containers import Container
from ota_action.formats.zigbee.elements import (
    IMAGE_INTEGRITY_CODE,
    MANUFACTURER_FIRST,
    SIGNATURE_TAGS,
    UPGRADE_IMAGE,
    is_reserved,
    tag_name,
)
from ota_action.formats.zigbee.header import FC_KNOWN, HEADER_VERSION, header_size
from ota_action.formats.zigbee.image import ParsedImage
from ota_action.formats.zigbee.integrity import MAX_INPUT, IntegrityVariant
from ota_action.formats.zigbee.layouts import HUE_SBL, STANDARD, TELINK_ENCRYPTED, Layout
from ota_action.formats.zigbee.payload import TELINK as TELINK_PAYLOAD
from ota_action.formats.zigbee.payload import ZIGBEE_OTA as NESTED_OTA
from ota_action.formats.zigbee.payload import Payload
from ota_action.formats.zigbee.trailers import CRC32_LE, Trailer


class Level(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True)
class Finding:
    """One thing a command noticed.  ``code`` is stable (kebab-case, never reworded), so CI
    can allow or deny a specific finding from ``--json``; ``message`` is for people."""

    level: Level
    code: str
    message: str

    @classmethod
    def error(cls, code: str, message: str) -> Finding:
        return cls(Level.ERROR, code, message)

    @classmethod
    def warning(cls, code: str, message: str) -> Finding:
        return cls(Level.WARNING, code, message)


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


_CONTAINER_TEXT = {
    "ikea-ngis": "an IKEA NGIS container",
    "legrand": "a Legrand container",
    "third-reality": "a Third Reality container",
}


def check_image(
    parsed: ParsedImage,
    *,
    layout: Layout | None = None,
    container: Container | None = None,
    trailer: Trailer | None = None,
    payloads: Sequence[Payload] = (),
) -> list[Finding]:
    """Every rule of ``verify`` except the magic number (the parser enforces that).

    ``layout`` replaces the standard walk's elements and problem when it names a vendor
    layout; ``trailer`` classifies the bytes after the total image size; ``payloads``
    are the identified upgrade images; ``container`` is the wrapper the file came in.
    """
    h = parsed.header
    out: list[Finding] = []
    # A standard layout is the parser's own walk: its counts cover every element, listed or not.
    vendor = layout if layout is not None and layout.name != STANDARD else None
    elements = parsed.elements if vendor is None else vendor.elements
    walk_problem = parsed.walk_problem if layout is None else layout.problem

    def error(code: str, message: str) -> None:
        out.append(Finding(Level.ERROR, code, message))

    def warning(code: str, message: str) -> None:
        out.append(Finding(Level.WARNING, code, message))

    def note(code: str, message: str) -> None:
        out.append(Finding(Level.NOTE, code, message))

    if container is not None:
        _check_container(container, error, note)

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
    if layout is not None:
        _check_layout(layout, h.total_image_size, warning)
    if parsed.trailing_bytes:
        text = (
            f"{parsed.trailing_bytes} bytes after the total image size {h.total_image_size} "
            "are not part of the image"
        )
        if trailer is not None and trailer.kind == CRC32_LE and trailer.valid:
            note(
                "trailer-crc32",
                f"the 4 bytes after the total image size {h.total_image_size} are the CRC-32 "
                f"of the file before them (0x{trailer.stored:08X}, the Salus convention) and it matches",
            )
        elif trailer is not None and trailer.kind == CRC32_LE:
            error(
                "trailer-crc32",
                f"the 4 bytes after the total image size {h.total_image_size} should be the "
                f"CRC-32 of the file before them (the Salus convention) but hold "
                f"0x{trailer.stored:08X}; the file computes to 0x{trailer.computed:08X}",
            )
        elif trailer is not None and trailer.computed is not None:
            warning("trailing-bytes", f"{text} (nor a CRC-32 of it, which is 0x{trailer.computed:08X})")
        else:
            warning("trailing-bytes", text)
    if walk_problem:
        error("sub-elements", walk_problem)
    # The standard walk lists at most 1000 elements but counts every tag.
    counts = parsed.tag_counts if vendor is None else Counter(e.tag for e in elements)
    for tag, count in sorted(counts.items()):
        if count < 2:
            continue
        text = f"tag 0x{tag:04X} ({tag_name(tag)}) appears {count} times"
        if tag == UPGRADE_IMAGE or tag >= MANUFACTURER_FIRST:
            warning("duplicate-tag", text)
        else:
            error("duplicate-tag", text)
    for tag in sorted(t for t in counts if is_reserved(t)):
        warning(
            "reserved-tag",
            f"tag 0x{tag:04X} is in the reserved range 0x0007-0xEFFF, which the specification "
            "keeps for future use",
        )
    last = parsed.last_element if vendor is None else (elements[-1] if elements else None)
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
    for payload in payloads:
        if payload.format == NESTED_OTA:
            warning(
                "nested-ota",
                f"the upgrade image at offset {payload.offset} is itself a Zigbee OTA file (wrapped "
                "twice): a device expects its firmware there and rejects the file",
            )
        if payload.valid is False:
            stored, computed = payload.details.get("crc32_stored"), payload.details.get("crc32_computed")
            code = "payload-crc" if stored is not None and stored != computed else "payload-structure"
            if payload.format == TELINK_PAYLOAD:
                code = "payload"  # what the device checks is one verdict: it boots the image or not
            error(code, f"the upgrade image at offset {payload.offset}: {payload.problem}")
    return out


def _check_layout(layout: Layout, total: int, warning: Callable[[str, str], None]) -> None:
    if layout.name == TELINK_ENCRYPTED:
        count = layout.details.get("telink_elements", 0)
        first = layout.details["telink"][0]
        more = "" if count == 1 else f" ({count} such elements)"
        warning(
            "layout-telink",
            f"Telink encrypted layout: the 0xF000 element at offset {first['offset']} has a "
            f"2-byte tag info (0x{first['tag_info']:04X}) between its length field "
            f"({first['length_field']}) and its data, so it is 2 bytes longer than the "
            f"standard layout allows{more}",
        )
    elif layout.name == HUE_SBL:
        start = layout.payloads[0][0] if layout.payloads else 0
        warning(
            "layout-hue-sbl",
            f"Philips Hue SBL layout: no sub-elements; the raw image follows the header "
            f"from offset {start} to the total image size {total}",
        )


def _check_container(
    container: Container, error: Callable[[str, str], None], note: Callable[[str, str], None]
) -> None:
    kind = _CONTAINER_TEXT.get(container.kind, f"a {container.kind} container")
    text = f"the OTA file is inside {kind}: {container.length} bytes at offset {container.offset}"
    if container.trailer_length:
        text += f", with a {container.trailer_length}-byte trailer after it"
    if container.valid is False:
        error("container", f"{text}; the container's SHA-512 does not match its contents")
    elif container.valid:
        note("container", f"{text}; the container's SHA-512 matches")
    else:
        note("container", f"{text}; the container has nothing ota-action can check")
