"""The vendor layouts (``telink-encrypted``, ``hue-sbl``: :mod:`.layouts` describes both),
their classes and recognisers.

Imported by :func:`~ota_action.formats.zigbee.layouts.detect_layout` only for a file the
standard walk failed on, so a standard file creates none of these classes (issue 25).
Each layout words its own warning (:meth:`Layout.warning`); the rules of the codes
``layout-telink`` and ``layout-hue-sbl`` report it.
"""

from __future__ import annotations

from typing import BinaryIO, ClassVar

from ota_action.formats.zigbee.elements import TAG_HEADER_SIZE, UPGRADE_IMAGE, ElementRef
from ota_action.formats.zigbee.header import OtaHeader
from ota_action.formats.zigbee.layouts import (
    HUE_MANUFACTURER,
    HUE_SBL,
    HUE_SBL_MAGIC,
    MAX_LISTED,
    TELINK_ENCRYPTED,
    TELINK_INFO_SIZE,
    TELINK_TAG,
    Layout,
)
from ota_action.formats.zigbee.streams import read_at
from ota_action.records import record


@record
class TelinkElement:
    """One Telink 0xF000 element: where it starts, its length field, its 2-byte tag info."""

    offset: int
    length_field: int
    tag_info: int


@record
class TelinkEncryptedLayout(Layout):
    """Telink's encrypted layout: ``count`` 0xF000 elements, the first :data:`MAX_LISTED` listed."""

    count: int = 0
    encrypted: tuple[TelinkElement, ...] = ()

    code: ClassVar[str | None] = "layout-telink"

    def warning(self, total_image_size: int) -> str | None:
        if not self.encrypted:
            return None
        first = self.encrypted[0]
        more = "" if self.count == 1 else f" ({self.count} such elements)"
        return (
            f"Telink encrypted layout: the 0xF000 element at offset {first.offset} has a "
            f"2-byte tag info (0x{first.tag_info:04X}) between its length field "
            f"({first.length_field}) and its data, so it is 2 bytes longer than the "
            f"standard layout allows{more}"
        )


@record
class HueSblLayout(Layout):
    """Philips Hue SBL: no sub-elements; the one payload is the raw image after the header."""

    code: ClassVar[str | None] = "layout-hue-sbl"

    @property
    def image_start(self) -> int:
        return self.payloads[0][0] if self.payloads else 0

    def warning(self, total_image_size: int) -> str | None:
        return (
            f"Philips Hue SBL layout: no sub-elements; the raw image follows the header "
            f"from offset {self.image_start} to the total image size {total_image_size}"
        )


def hue_sbl(f: BinaryIO, header: OtaHeader, size: int) -> HueSblLayout | None:
    start, total = header.header_length, header.total_image_size
    if header.manufacturer_code != HUE_MANUFACTURER or total - start < len(HUE_SBL_MAGIC):
        return None
    if read_at(f, start, len(HUE_SBL_MAGIC)) != HUE_SBL_MAGIC:
        return None
    problem = None
    if total > size:
        problem = f"total image size {total} is beyond the end of the {size}-byte file"
    return HueSblLayout(HUE_SBL, (), problem, ((start, min(total, size) - start),))


def telink(f: BinaryIO, start: int, total: int, size: int) -> TelinkEncryptedLayout | None:
    if total > size:
        return None
    found: list[ElementRef] = []
    payloads: list[tuple[int, int]] = []
    encrypted: list[TelinkElement] = []
    count = 0
    offset = start
    while offset < total:
        raw = read_at(f, offset, TAG_HEADER_SIZE + TELINK_INFO_SIZE)
        if len(raw) < TAG_HEADER_SIZE:
            return None
        tag = int.from_bytes(raw[:2], "little")
        length = int.from_bytes(raw[2:6], "little")
        if tag == TELINK_TAG:
            if len(raw) < TAG_HEADER_SIZE + TELINK_INFO_SIZE:
                return None
            ref = ElementRef(tag, length + TELINK_INFO_SIZE, offset)
            payloads.append((ref.data_offset + TELINK_INFO_SIZE, length))
            count += 1
            if len(encrypted) < MAX_LISTED:
                info = int.from_bytes(raw[6:8], "little")
                encrypted.append(TelinkElement(offset, length, info))
        else:
            ref = ElementRef(tag, length, offset)
            if tag == UPGRADE_IMAGE:
                payloads.append((ref.data_offset, length))
        if ref.end > total:
            return None
        found.append(ref)
        offset = ref.end
    if count == 0 or any(e.tag == UPGRADE_IMAGE for e in found):
        # Telink's 0xF000 *is* the (encrypted) upgrade image.  Beside a 0x0000, a last
        # 0xF000 followed by 2 stray bytes would read the same way: that stays an error.
        return None
    listed = tuple(encrypted)
    return TelinkEncryptedLayout(TELINK_ENCRYPTED, tuple(found), None, tuple(payloads), count, listed)
