"""What is inside an upgrade image (tag 0x0000, or Telink's 0xF000): the firmware's own format.

Payloads are identified by their content, never by the header string (an Aeotec file
says ``EBL`` and carries a GBL).  Silicon Labs GBL and EBL images are walked tag by
tag and their CRC-32 is checked the way the bootloader does (:mod:`.silabs`).

Telink application images (``KNLT`` start-up flag at offset 8) are checked as Telink's
boot code checks them (:mod:`ota_action.formats.telink`): the OTA magic, the size at 0x18
against the data, the CRC.  An upgrade image that is itself a Zigbee OTA file (magic
0x0BEEF11E: wrapped twice, a known mistake) is ``zigbee-ota``.

The other formats are recognised by their own headers, and only described:
NXP JN51xx (the 12-byte boot image record
magic), TI OAD (the 8-byte image id), MCUboot (magic 0x96F3B83D, Nordic NCS) and
Espressif app images (0xE9 plus the app descriptor magic 0xABCD5432 at offset 32).

An upgrade image that is a build's file — Intel HEX or S-record text (a whole first record
line), or an ELF (its identification bytes) — is ``firmware-file`` and invalid (finding
``payload``): a device's bootloader cannot run the text or the ELF container.

Each kind is its own typed class, kept with its reader (:mod:`.silabs` for GBL and EBL,
:mod:`.payload_kinds` for the kinds most files never hold); :func:`recognise` names the
kind from the first bytes alone and the reader's module is imported only then.
Everything is read with bounded reads: only the first 112 bytes here, the walks stream.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import BinaryIO

from ota_action.formats.firmware.kinds import kind_by_content
from ota_action.formats.telink.header import HEAD_SIZE as TELINK_HEAD_SIZE
from ota_action.formats.telink.header import is_telink
from ota_action.formats.zigbee.header import MAGIC
from ota_action.formats.zigbee.payload_types import Payload, PayloadFormat
from ota_action.formats.zigbee.silabs_header import MAX_LISTED_TAGS, is_ebl, is_gbl
from ota_action.formats.zigbee.streams import read_at

__all__ = ["MAX_LISTED_TAGS", "Payload", "PayloadFormat", "identify_payload", "recognise"]

GBL = PayloadFormat.GBL
EBL = PayloadFormat.EBL
TELINK = PayloadFormat.TELINK
NXP_JN51XX = PayloadFormat.NXP_JN51XX
TI = PayloadFormat.TI
MCUBOOT = PayloadFormat.MCUBOOT
ESP = PayloadFormat.ESP
ZIGBEE_OTA = PayloadFormat.ZIGBEE_OTA
FIRMWARE_FILE = PayloadFormat.FIRMWARE_FILE
UNKNOWN = PayloadFormat.UNKNOWN

NXP_MAGIC = bytes.fromhex("123456781122334455667788")
TI_IMAGE_IDS = (b"CC26x2R1", b"CC13x2R1", b"CC13x4  ", b"CC26x3  ", b"CC26x4  ", b"OAD IMG ", b"CC23x0R2")
MCUBOOT_MAGIC = 0x96F3B83D
ESP_MAGIC = 0xE9
ESP_APP_DESC_MAGIC = 0xABCD5432
_OTA_MAGIC = MAGIC.to_bytes(4, "little")
_HEAD = 112  # enough for every header read below (ESP's project name ends at 112)

Reader = Callable[[PayloadFormat, BinaryIO, bytes, int, int], Payload]
"""``read(kind, f, head, offset, length)``: the payload of a recognised kind, read."""


def _silabs() -> Reader:
    from ota_action.formats.zigbee.silabs import read_silabs

    return read_silabs


def _rarer() -> Reader:
    from ota_action.formats.zigbee.payload_kinds import read_kind

    return read_kind


# A kind with more to read than its name -> the loader of its reader, called for the first
# image of that kind only: a file of none of them never imports those modules (above).
_READERS: Mapping[PayloadFormat, Callable[[], Reader]] = {
    GBL: _silabs,
    EBL: _silabs,
    TELINK: _rarer,
    FIRMWARE_FILE: _rarer,
    TI: _rarer,
    MCUBOOT: _rarer,
    ESP: _rarer,
}


def identify_payload(f: BinaryIO, offset: int, length: int) -> Payload:
    """Identify the firmware in ``[offset, offset + length)`` of ``f``; never raises on content."""
    head = read_at(f, offset, min(length, _HEAD))
    kind = recognise(head)
    loader = _READERS.get(kind)
    return Payload(kind, offset, length) if loader is None else loader()(kind, f, head, offset, length)


def _u32(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 4], "little")


def recognise(head: bytes) -> PayloadFormat:
    """The format of an upgrade image from its first bytes (up to 112), by content alone."""
    if is_gbl(head):
        return GBL
    if is_ebl(head):
        return EBL
    if head[:4] == _OTA_MAGIC:
        return ZIGBEE_OTA
    if len(head) >= TELINK_HEAD_SIZE and is_telink(head):
        return TELINK
    if kind_by_content(head) is not None:
        return FIRMWARE_FILE
    if is_telink(head):  # too short for the header the boot code reads: only named
        return TELINK
    if head[:12] == NXP_MAGIC:
        return NXP_JN51XX
    if head[:8] in TI_IMAGE_IDS:
        return TI
    if len(head) >= 4 and _u32(head, 0) == MCUBOOT_MAGIC:
        return MCUBOOT
    if len(head) >= 36 and head[0] == ESP_MAGIC and _u32(head, 32) == ESP_APP_DESC_MAGIC:
        return ESP
    return UNKNOWN
