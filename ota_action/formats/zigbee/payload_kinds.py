"""The upgrade-image kinds most OTA files never hold, and how each is read once recognised.

:func:`ota_action.formats.zigbee.payload.identify_payload` tells every kind by its first
bytes; this module is imported only for an image of one of these kinds (Telink, a
build's file, TI OAD, MCUboot, Espressif), so a file of none of them never creates their
classes or loads their code (issue 25).  The common kinds (GBL and EBL, a nested OTA
file, NXP, unknown) are in :mod:`.payload_types`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO

from ota_action.formats.firmware.kinds import FirmwareKind, kind_by_content
from ota_action.formats.mcuboot import image as mcuboot
from ota_action.formats.telink import image as telink
from ota_action.formats.zigbee.payload_types import Payload, PayloadFormat, hex32
from ota_action.formats.zigbee.streams import chunks
from ota_action.records import record

if TYPE_CHECKING:
    from ota_action.formats.mcuboot.image import McubootHeader, Tlv
    from ota_action.formats.telink.image import TelinkCheck


@record
class TelinkPayload(Payload):
    """A Telink application image and what the boot code's check found."""

    check: TelinkCheck | None = None

    @property
    def valid(self) -> bool:
        return self.problem is None

    def _details(self) -> list[tuple[str, Any]]:
        c = self.check
        if c is None:
            return []
        return [
            ("firmware_size", c.size_field),
            ("version", None if c.version is None else hex32(c.version)),
            ("crc32_stored", None if c.crc32_stored is None else hex32(c.crc32_stored)),
            ("crc32_computed", None if c.crc32_computed is None else hex32(c.crc32_computed)),
        ]

    def finding_code(self) -> str:
        return "payload"  # one verdict, as on the device: it boots the image or it does not


@record
class FirmwareFilePayload(Payload):
    """An upgrade image that is a build's *file* (Intel HEX or S-record text, an ELF) instead
    of the binary image made from it: a bootloader cannot run it, so the file is invalid.

    ``kind`` names the format as messages name it (``Intel HEX``, ``Motorola S-record``,
    ``ELF``); the check is by content only (:func:`ota_action.formats.firmware.kinds.kind_by_content`:
    a whole first record line, or the ELF identification bytes)."""

    kind: str = ""

    @property
    def valid(self) -> bool:
        return False

    def _details(self) -> list[tuple[str, Any]]:
        return [("file_format", self.kind)]

    def finding_code(self) -> str:
        return "payload"


@record
class TiPayload(Payload):
    """A TI OAD image: its 8-byte image id, and the length and CRC its header states."""

    image_id: str = ""
    image_length: int | None = None
    crc32_stored: int | None = None

    def _details(self) -> list[tuple[str, Any]]:
        crc = None if self.crc32_stored is None else hex32(self.crc32_stored)
        return [("image_id", self.image_id), ("image_length", self.image_length), ("crc32_stored", crc)]


@record
class McubootPayload(Payload):
    """An MCUboot image (Nordic NCS): header size, image size, version, and, when the TLV
    area is there, the header's other fields and every TLV (hash, key, signature...)."""

    header_size: int | None = None
    image_size: int | None = None
    version: str | None = None
    header: McubootHeader | None = None
    tlvs: tuple[Tlv, ...] | None = None

    def _details(self) -> list[tuple[str, Any]]:
        fields: list[tuple[str, Any]] = [
            ("header_size", self.header_size),
            ("image_size", self.image_size),
            ("version", self.version),
        ]
        if self.header is not None and self.tlvs is not None:
            fields += [
                ("load_address", hex32(self.header.load_address)),
                ("flags", hex32(self.header.flags)),
                ("protected_tlv_size", self.header.protected_tlv_size),
                ("tlvs", [_tlv_json(t) for t in self.tlvs]),
            ]
        return fields

    def notes(self) -> list[str]:
        if self.version is None:
            return []
        tlvs = [f"TLVs {' '.join(t.name for t in self.tlvs)}"] if self.tlvs else []
        return [f"version {self.version}", *tlvs]

    @property
    def signed_as(self) -> str | None:
        return "MCUboot" if self.header is not None else None


def _tlv_json(tlv: Tlv) -> dict[str, Any]:
    return {
        "type": tlv.name,
        "id": f"0x{tlv.type:02X}",
        "offset": tlv.offset,
        "length": tlv.length,
        "protected": tlv.protected,
    }


@record
class EspPayload(Payload):
    """An Espressif app image: chip id and the app descriptor's version and project name."""

    chip_id: int = 0
    version: str | None = None
    project_name: str | None = None

    def _details(self) -> list[tuple[str, Any]]:
        return [("chip_id", self.chip_id), ("version", self.version), ("project_name", self.project_name)]


def _text(raw: bytes) -> str:
    """Text up to the first NUL; anything but printable ASCII escaped as ``\\xNN``."""
    raw = raw.split(b"\0", 1)[0]
    return "".join(chr(b) if 0x20 <= b < 0x7F and b != 0x5C else f"\\x{b:02x}" for b in raw)


def _u32(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 4], "little")


def _telink(f: BinaryIO, head: bytes, offset: int, length: int) -> Payload:
    if len(head) < telink.HEAD_SIZE:  # too short for the header the boot code reads: only named
        return Payload(PayloadFormat.TELINK, offset, length)
    found = telink.check_telink_stream(chunks(f, offset, offset + length), length)
    return TelinkPayload(PayloadFormat.TELINK, offset, length, found.problem, found)


def _firmware_file(_f: BinaryIO, head: bytes, offset: int, length: int) -> Payload:
    kind = kind_by_content(head) or FirmwareKind.ELF  # recognised by the caller: never None
    problem = (
        f"is {kind.value} {'data' if kind is FirmwareKind.ELF else 'text'}, a build's file rather "
        "than the binary image a device installs (zbota converts .hex, .s37 and ELF files to it)"
    )
    return FirmwareFilePayload(PayloadFormat.FIRMWARE_FILE, offset, length, problem, kind=kind.value)


def _ti(_f: BinaryIO, head: bytes, offset: int, length: int) -> Payload:
    image_id = _text(head[:8]).rstrip()
    if len(head) < 36:
        return TiPayload(PayloadFormat.TI, offset, length, image_id=image_id)
    return TiPayload(
        PayloadFormat.TI,
        offset,
        length,
        image_id=image_id,
        image_length=_u32(head, 24),
        crc32_stored=_u32(head, 8),
    )


def _mcuboot(f: BinaryIO, head: bytes, offset: int, length: int) -> Payload:
    header = mcuboot.decode_header(head)
    if header is None:
        return McubootPayload(PayloadFormat.MCUBOOT, offset, length)
    tlvs = mcuboot.read_tlvs(f, offset, length, header)
    return McubootPayload(
        PayloadFormat.MCUBOOT,
        offset,
        length,
        header_size=header.header_size,
        image_size=header.image_size,
        version=header.version,
        header=header,
        tlvs=tlvs,
    )


def _esp(_f: BinaryIO, head: bytes, offset: int, length: int) -> Payload:
    chip = int.from_bytes(head[12:14], "little")
    if len(head) < 112:
        return EspPayload(PayloadFormat.ESP, offset, length, chip_id=chip)
    return EspPayload(
        PayloadFormat.ESP,
        offset,
        length,
        chip_id=chip,
        version=_text(head[48:80]),
        project_name=_text(head[80:112]),
    )


READERS: dict[PayloadFormat, Callable[[BinaryIO, bytes, int, int], Payload]] = {
    PayloadFormat.TELINK: _telink,
    PayloadFormat.FIRMWARE_FILE: _firmware_file,
    PayloadFormat.TI: _ti,
    PayloadFormat.MCUBOOT: _mcuboot,
    PayloadFormat.ESP: _esp,
}


def read_kind(kind: PayloadFormat, f: BinaryIO, head: bytes, offset: int, length: int) -> Payload:
    """The image of ``kind`` at ``[offset, offset + length)``, ``head`` its first bytes."""
    return READERS[kind](f, head, offset, length)
