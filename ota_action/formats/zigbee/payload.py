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

Each kind is its own typed class (:mod:`.payload_types`).  Everything is read with
bounded reads: only the first 112 bytes here, the walks stream.
"""

from __future__ import annotations

from typing import BinaryIO

from ota_action.formats.firmware.kinds import FirmwareKind, kind_by_content
from ota_action.formats.mcuboot import image as mcuboot
from ota_action.formats.telink import image as telink
from ota_action.formats.zigbee.header import MAGIC
from ota_action.formats.zigbee.payload_types import (
    EspPayload,
    FirmwareFilePayload,
    McubootPayload,
    Payload,
    PayloadFormat,
    TelinkPayload,
    TiPayload,
)
from ota_action.formats.zigbee.silabs import MAX_LISTED_TAGS, is_ebl, is_gbl, walk_silabs
from ota_action.formats.zigbee.streams import chunks, read_at

__all__ = ["MAX_LISTED_TAGS", "Payload", "PayloadFormat", "identify_payload"]

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


def identify_payload(f: BinaryIO, offset: int, length: int) -> Payload:
    """Identify the firmware in ``[offset, offset + length)`` of ``f``; never raises on content."""
    head = read_at(f, offset, min(length, _HEAD))
    if is_gbl(head):
        return walk_silabs(f, offset, length, gbl=True)
    if is_ebl(head):
        return walk_silabs(f, offset, length, gbl=False)
    if head[:4] == _OTA_MAGIC:
        return Payload(ZIGBEE_OTA, offset, length)
    if len(head) >= telink.HEAD_SIZE and telink.is_telink(head):
        found = telink.check_telink_stream(chunks(f, offset, offset + length), length)
        return TelinkPayload(TELINK, offset, length, found.problem, found)
    kind = kind_by_content(head)
    if kind is not None:
        problem = (
            f"is {kind.value} {'data' if kind is FirmwareKind.ELF else 'text'}, a build's file rather "
            "than the binary image a device installs (zbota converts .hex, .s37 and ELF files to it)"
        )
        return FirmwareFilePayload(FIRMWARE_FILE, offset, length, problem, kind=kind.value)
    return _described(f, head, offset, length)


def _u32(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 4], "little")


def _text(raw: bytes) -> str:
    """Text up to the first NUL; anything but printable ASCII escaped as ``\\xNN``."""
    raw = raw.split(b"\0", 1)[0]
    return "".join(chr(b) if 0x20 <= b < 0x7F and b != 0x5C else f"\\x{b:02x}" for b in raw)


def _mcuboot(f: BinaryIO, head: bytes, offset: int, length: int) -> Payload:
    header = mcuboot.decode_header(head)
    if header is None:
        return McubootPayload(MCUBOOT, offset, length)
    tlvs = mcuboot.read_tlvs(f, offset, length, header)
    return McubootPayload(
        MCUBOOT,
        offset,
        length,
        header_size=header.header_size,
        image_size=header.image_size,
        version=header.version,
        header=header,
        tlvs=tlvs,
    )


def _described(f: BinaryIO, head: bytes, offset: int, length: int) -> Payload:
    if telink.is_telink(head):  # too short for the header the boot code reads: only named
        return Payload(TELINK, offset, length)
    if head[:12] == NXP_MAGIC:
        return Payload(NXP_JN51XX, offset, length)
    if head[:8] in TI_IMAGE_IDS:
        image_id = _text(head[:8]).rstrip()
        if len(head) < 36:
            return TiPayload(TI, offset, length, image_id=image_id)
        return TiPayload(
            TI, offset, length, image_id=image_id, image_length=_u32(head, 24), crc32_stored=_u32(head, 8)
        )
    if len(head) >= 4 and _u32(head, 0) == MCUBOOT_MAGIC:
        return _mcuboot(f, head, offset, length)
    if len(head) >= 36 and head[0] == ESP_MAGIC and _u32(head, 32) == ESP_APP_DESC_MAGIC:
        chip = int.from_bytes(head[12:14], "little")
        if len(head) < 112:
            return EspPayload(ESP, offset, length, chip_id=chip)
        return EspPayload(
            ESP, offset, length, chip_id=chip, version=_text(head[48:80]), project_name=_text(head[80:112])
        )
    return Payload(UNKNOWN, offset, length)
