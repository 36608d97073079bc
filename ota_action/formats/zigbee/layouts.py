"""Vendor layouts of what follows the OTA header, recognised when the standard walk fails.

``standard``
    Sub-elements ``tag:u16 | length:u32 | data`` from the header length to the total
    image size (ZigBee 095264r23 §6.3.3).  Whenever that walk ends exactly at the total
    image size, the file is standard, whatever its vendor.
``telink-encrypted``
    Telink's SDK (LEDVANCE, Sonoff, Tuya...) writes its encrypted image as a 0xF000
    element whose length field counts the data only, with a 2-byte "tag info" between
    the length and the data: such an element occupies ``8 + length`` bytes.  Recognised
    when the standard walk fails and a walk that reads every 0xF000 that way ends
    exactly at the total image size and the file has no 0x0000 upgrade image (the
    0xF000 element is the encrypted image; zigpy's ``TelinkOTAImage`` reads it the same
    way, zigbee-herdsman too).  The listed element's ``length`` is ``length field + 2`` so
    that its end is where the next element starts.
``hue-sbl``
    Philips Hue ``.sbl-ota`` files (manufacturer 0x100B): no sub-elements, the raw
    image follows the header up to the total image size and starts ``2A 00 01``
    (zigpy's ``HueSBLOTAImage`` uses the same three facts).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from ota_action.formats.zigbee.elements import TAG_HEADER_SIZE, UPGRADE_IMAGE, ElementRef
from ota_action.formats.zigbee.header import OtaHeader
from ota_action.formats.zigbee.streams import read_at


class LayoutKind(enum.StrEnum):
    """How the bytes after the OTA header are organised."""

    STANDARD = "standard"
    TELINK_ENCRYPTED = "telink-encrypted"
    HUE_SBL = "hue-sbl"


STANDARD = LayoutKind.STANDARD
TELINK_ENCRYPTED = LayoutKind.TELINK_ENCRYPTED
HUE_SBL = LayoutKind.HUE_SBL

TELINK_TAG = 0xF000
TELINK_INFO_SIZE = 2
HUE_MANUFACTURER = 0x100B
HUE_SBL_MAGIC = b"\x2a\x00\x01"
MAX_LISTED = 32


@dataclass(frozen=True)
class Layout:
    """How the bytes after the header are organised, and where the firmware sits.

    ``elements`` replaces the standard walk's list for a vendor layout; ``problem`` is
    the walk problem that remains under this layout (None when the layout explains the
    whole image); ``payloads`` are the ``(offset, length)`` ranges holding firmware
    (each 0x0000's data; Telink's 0xF000 data after its tag info; Hue's raw image).
    """

    name: LayoutKind
    elements: tuple[ElementRef, ...]
    problem: str | None
    payloads: tuple[tuple[int, int], ...] = ()

    def to_json(self) -> str:
        """The value of the JSON key ``layout``."""
        return self.name.value


@dataclass(frozen=True)
class TelinkElement:
    """One Telink 0xF000 element: where it starts, its length field, its 2-byte tag info."""

    offset: int
    length_field: int
    tag_info: int


@dataclass(frozen=True)
class TelinkEncryptedLayout(Layout):
    """Telink's encrypted layout: ``count`` 0xF000 elements, the first :data:`MAX_LISTED` listed."""

    count: int = 0
    encrypted: tuple[TelinkElement, ...] = ()


@dataclass(frozen=True)
class HueSblLayout(Layout):
    """Philips Hue SBL: no sub-elements; the one payload is the raw image after the header."""

    @property
    def image_start(self) -> int:
        return self.payloads[0][0] if self.payloads else 0


def _standard_payloads(elements: Sequence[ElementRef]) -> tuple[tuple[int, int], ...]:
    return tuple((e.data_offset, e.length) for e in elements if e.tag == UPGRADE_IMAGE)


def detect_layout(
    f: BinaryIO,
    header: OtaHeader,
    elements: Sequence[ElementRef],
    walk_problem: str | None,
    size: int,
) -> Layout:
    """The layout of an OTA file already walked the standard way (``elements``, ``walk_problem``).

    ``f`` and ``size`` describe the OTA file itself (a container's inner file, when there
    is one); offsets in the result are in that file.
    """
    standard = Layout(STANDARD, tuple(elements), walk_problem, _standard_payloads(elements))
    if walk_problem is None:
        return standard
    start, total = header.header_length, header.total_image_size
    if total < start:
        return standard
    hue = _hue_sbl(f, header, size)
    if hue is not None:
        return hue
    return _telink(f, start, total, size) or standard


def _hue_sbl(f: BinaryIO, header: OtaHeader, size: int) -> HueSblLayout | None:
    start, total = header.header_length, header.total_image_size
    if header.manufacturer_code != HUE_MANUFACTURER or total - start < len(HUE_SBL_MAGIC):
        return None
    if read_at(f, start, len(HUE_SBL_MAGIC)) != HUE_SBL_MAGIC:
        return None
    problem = None
    if total > size:
        problem = f"total image size {total} is beyond the end of the {size}-byte file"
    return HueSblLayout(HUE_SBL, (), problem, ((start, min(total, size) - start),))


def _telink(f: BinaryIO, start: int, total: int, size: int) -> TelinkEncryptedLayout | None:
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
