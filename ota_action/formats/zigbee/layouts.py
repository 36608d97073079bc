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

The two vendor layouts' classes and recognisers are in :mod:`.layouts_vendor`.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import BinaryIO, ClassVar

from ota_action.formats.zigbee.elements import UPGRADE_IMAGE, ElementRef
from ota_action.formats.zigbee.header import OtaHeader
from ota_action.records import record


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


@record
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

    # A vendor layout's finding code and warning (see the rules of those codes).
    code: ClassVar[str | None] = None

    def warning(self, total_image_size: int) -> str | None:
        """What is unusual about this layout, in words; None for the standard one."""
        return None

    def to_json(self) -> str:
        """The value of the JSON key ``layout``."""
        return self.name.value


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
    # The vendor layouts' module is imported only for a file the standard walk failed on:
    # three record classes and their code, which a standard file never needs (issue 25).
    from ota_action.formats.zigbee import layouts_vendor

    return layouts_vendor.hue_sbl(f, header, size) or layouts_vendor.telink(f, start, total, size) or standard
