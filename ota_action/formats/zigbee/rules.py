"""The rules of ``verify``: one function per finding code, in the order findings are listed.

Each rule reads the :class:`Facts` of one file and yields the findings of its code (none
when the file is right).  Where two codes are two outcomes of one comparison
(``trailer-crc32`` matched or not, ``trailing-bytes`` otherwise; ``integrity`` wrong or
``integrity-variant`` non-standard), each code still has its own rule, and they sit side
by side so the order of findings is the one ``verify`` has always printed.  The payload
rules take the payloads in file order; each payload kind names the code its own failure
is (:meth:`~ota_action.formats.zigbee.payload_types.Payload.finding_code`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cached_property

from ota_action.formats.zigbee.containers import Container, ContainerKind
from ota_action.formats.zigbee.elements import (
    IMAGE_INTEGRITY_CODE,
    MANUFACTURER_FIRST,
    SIGNATURE_TAGS,
    UPGRADE_IMAGE,
    ElementRef,
    is_reserved,
    tag_name,
)
from ota_action.formats.zigbee.findings import Finding
from ota_action.formats.zigbee.header import FC_KNOWN, HEADER_VERSION, header_size
from ota_action.formats.zigbee.integrity import MAX_INPUT, IntegrityVariant
from ota_action.formats.zigbee.layouts import Layout, LayoutKind
from ota_action.formats.zigbee.parsed import ParsedImage
from ota_action.formats.zigbee.payload_types import Payload, PayloadFormat
from ota_action.formats.zigbee.trailers import Trailer
from ota_action.records import record

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
    ContainerKind.IKEA_NGIS: "an IKEA NGIS container",
    ContainerKind.LEGRAND: "a Legrand container",
    ContainerKind.THIRD_REALITY: "a Third Reality container",
}


@record
class Facts:
    """One parsed file and what the vendor recognisers found in it."""

    parsed: ParsedImage
    layout: Layout | None = None
    container: Container | None = None
    trailer: Trailer | None = None
    payloads: Sequence[Payload] = ()

    @property
    def vendor(self) -> Layout | None:
        """The layout when it is a vendor's (a standard one is the parser's own walk)."""
        layout = self.layout
        return layout if layout is not None and layout.name is not LayoutKind.STANDARD else None

    @property
    def elements(self) -> Sequence[ElementRef]:
        return self.parsed.elements if self.vendor is None else self.vendor.elements

    @cached_property
    def counts(self) -> Mapping[int, int]:
        """Tag -> count; the standard walk lists at most 1000 elements but counts every tag."""
        return self.parsed.tag_counts if self.vendor is None else Counter(e.tag for e in self.elements)

    @property
    def last(self) -> ElementRef | None:
        if self.vendor is None:
            return self.parsed.last_element
        return self.vendor.elements[-1] if self.vendor.elements else None


Rule = Callable[[Facts], Iterator[Finding]]


def container(facts: Facts) -> Iterator[Finding]:
    c = facts.container
    if c is None:
        return
    text = f"the OTA file is inside {_CONTAINER_TEXT[c.kind]}: {c.length} bytes at offset {c.offset}"
    if c.trailer_length:
        text += f", with a {c.trailer_length}-byte trailer after it"
    if c.valid is False:
        yield Finding.error("container", f"{text}; the container's SHA-512 does not match its contents")
    elif c.valid:
        yield Finding.note("container", f"{text}; the container's SHA-512 matches")
    else:
        yield Finding.note("container", f"{text}; the container has nothing ota-action can check")


def header_version(facts: Facts) -> Iterator[Finding]:
    h = facts.parsed.header
    if h.header_version != HEADER_VERSION:
        yield Finding.error(
            "header-version", f"header version 0x{h.header_version:04X} is not the Zigbee OTA version 0x0100"
        )


def header_length(facts: Facts) -> Iterator[Finding]:
    h = facts.parsed.header
    needed = header_size(h.field_control)
    if h.header_length != needed:
        yield Finding.warning(
            "header-length",
            f"header length {h.header_length} is larger than the {needed} bytes field control "
            f"0x{h.field_control:04X} implies; sub-elements start at {h.header_length}",
        )


def field_control(facts: Facts) -> Iterator[Finding]:
    h = facts.parsed.header
    if h.field_control & ~FC_KNOWN:
        yield Finding.warning("field-control", f"field control 0x{h.field_control:04X} sets reserved bits")


def hardware_versions(facts: Facts) -> Iterator[Finding]:
    low, high = facts.parsed.header.minimum_hardware_version, facts.parsed.header.maximum_hardware_version
    if low is not None and high is not None and low > high:
        yield Finding.error(
            "hardware-versions",
            f"minimum hardware version 0x{low:04X} is above the maximum 0x{high:04X}",
        )


def _vendor_layout(facts: Facts, code: str) -> Iterator[Finding]:
    """The warning of a vendor layout whose code is ``code``, worded by the layout itself."""
    layout = facts.vendor
    warning = (
        None
        if layout is None or layout.code != code
        else layout.warning(facts.parsed.header.total_image_size)
    )
    if warning is not None:
        yield Finding.warning(code, warning)


def layout_telink(facts: Facts) -> Iterator[Finding]:
    return _vendor_layout(facts, "layout-telink")


def layout_hue_sbl(facts: Facts) -> Iterator[Finding]:
    return _vendor_layout(facts, "layout-hue-sbl")


def trailer_crc32(facts: Facts) -> Iterator[Finding]:
    trailer, total = facts.trailer, facts.parsed.header.total_image_size
    if not facts.parsed.trailing_bytes or trailer is None or not trailer.is_crc32:
        return
    if trailer.valid:
        yield Finding.note(
            "trailer-crc32",
            f"the 4 bytes after the total image size {total} are the CRC-32 "
            f"of the file before them (0x{trailer.stored:08X}, the Salus convention) and it matches",
        )
    else:
        yield Finding.error(
            "trailer-crc32",
            f"the 4 bytes after the total image size {total} should be the "
            f"CRC-32 of the file before them (the Salus convention) but hold "
            f"0x{trailer.stored:08X}; the file computes to 0x{trailer.computed:08X}",
        )


def trailing_bytes(facts: Facts) -> Iterator[Finding]:
    trailer, parsed = facts.trailer, facts.parsed
    if not parsed.trailing_bytes or (trailer is not None and trailer.is_crc32):
        return
    text = (
        f"{parsed.trailing_bytes} bytes after the total image size {parsed.header.total_image_size} "
        "are not part of the image"
    )
    if trailer is not None and trailer.computed is not None:
        text += f" (nor a CRC-32 of it, which is 0x{trailer.computed:08X})"
    yield Finding.warning("trailing-bytes", text)


def sub_elements(facts: Facts) -> Iterator[Finding]:
    problem = facts.parsed.walk_problem if facts.layout is None else facts.layout.problem
    if problem:
        yield Finding.error("sub-elements", problem)


def duplicate_tag(facts: Facts) -> Iterator[Finding]:
    for tag, count in sorted(facts.counts.items()):
        if count < 2:
            continue
        text = f"tag 0x{tag:04X} ({tag_name(tag)}) appears {count} times"
        tolerated = tag == UPGRADE_IMAGE or tag >= MANUFACTURER_FIRST
        yield Finding.warning("duplicate-tag", text) if tolerated else Finding.error("duplicate-tag", text)


def reserved_tag(facts: Facts) -> Iterator[Finding]:
    for tag in sorted(t for t in facts.counts if is_reserved(t)):
        yield Finding.warning(
            "reserved-tag",
            f"tag 0x{tag:04X} is in the reserved range 0x0007-0xEFFF, which the specification "
            "keeps for future use",
        )


def integrity_position(facts: Facts) -> Iterator[Finding]:
    last = facts.last
    if IMAGE_INTEGRITY_CODE in facts.counts and last is not None and last.tag != IMAGE_INTEGRITY_CODE:
        yield Finding.warning("integrity-position", "the integrity code 0x0003 is not the last sub-element")


def signature_unverifiable(facts: Facts) -> Iterator[Finding]:
    for tag in sorted(set(facts.counts) & SIGNATURE_TAGS):
        yield Finding.warning(
            "signature-unverifiable",
            f"tag 0x{tag:04X} ({tag_name(tag)}) cannot be verified: Smart Energy suites use "
            "binary Koblitz curves, which cryptography does not support",
        )


def integrity(facts: Facts) -> Iterator[Finding]:
    found = facts.parsed.integrity
    if not found.present or found.variant is not None:
        return
    if found.offset is not None and found.offset >= MAX_INPUT:
        yield Finding.error(
            "integrity",
            f"the integrity code covers {found.offset} bytes, past AES-MMO's limit of {MAX_INPUT} "
            "(2^29) bytes, and does not match the 16-bit short-padding-only form either",
        )
    else:
        yield Finding.error("integrity", "the integrity code does not match the file under any known rule")


def integrity_variant(facts: Facts) -> Iterator[Finding]:
    found = facts.parsed.integrity
    if found.present and found.variant in _VARIANT_TEXT:
        yield Finding.warning("integrity-variant", _VARIANT_TEXT[found.variant])


def nested_ota(payload: Payload) -> Iterator[Finding]:
    if payload.format is PayloadFormat.ZIGBEE_OTA:
        yield Finding.warning(
            "nested-ota",
            f"the upgrade image at offset {payload.offset} is itself a Zigbee OTA file (wrapped "
            "twice): a device expects its firmware there and rejects the file",
        )


def payload_check(payload: Payload) -> Iterator[Finding]:
    """``payload-crc``, ``payload-structure`` (GBL, EBL) or ``payload`` (Telink, a HEX,
    S-record or ELF file as the image): the kind says."""
    code = payload.finding_code()
    if payload.valid is False and code is not None:
        yield Finding.error(code, f"the upgrade image at offset {payload.offset}: {payload.problem}")


def payloads(facts: Facts) -> Iterator[Finding]:
    for payload in facts.payloads:
        for rule in PAYLOAD_RULES:
            yield from rule(payload)


PAYLOAD_RULES: tuple[Callable[[Payload], Iterator[Finding]], ...] = (nested_ota, payload_check)

RULES: tuple[Rule, ...] = (
    container,
    header_version,
    header_length,
    field_control,
    hardware_versions,
    layout_telink,
    layout_hue_sbl,
    trailer_crc32,
    trailing_bytes,
    sub_elements,
    duplicate_tag,
    reserved_tag,
    integrity_position,
    signature_unverifiable,
    integrity,
    integrity_variant,
    payloads,
)
