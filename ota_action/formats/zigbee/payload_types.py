"""One typed class per payload kind, as zigpy has one class per OTA image kind.

Each class holds its format's fields as values (ints, bools, tuples), not as a dict the
rules dig into; :attr:`Payload.details` is derived from them, in the order and with the
text forms the JSON output has always used (hex strings for CRCs and versions), so the
JSON is unchanged.  :meth:`Payload.finding_code` is the one place a payload kind says
which finding its failure is.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ota_action.formats.mcuboot.image import McubootHeader, Tlv
from ota_action.formats.telink.image import TelinkCheck


class PayloadFormat(enum.StrEnum):
    """The format of an upgrade image, identified by its content."""

    GBL = "gbl"
    EBL = "ebl"
    TELINK = "telink"
    NXP_JN51XX = "nxp-jn51xx"
    TI = "ti"
    MCUBOOT = "mcuboot"
    ESP = "esp"
    ZIGBEE_OTA = "zigbee-ota"
    FIRMWARE_FILE = "firmware-file"  # Intel HEX or S-record text, or an ELF: a build file, not an image
    UNKNOWN = "unknown"


GBL_TYPE_ENCRYPTED = 0x00000001
GBL_TYPE_SIGNED = 0x00000100


def _hex32(value: int) -> str:
    return f"0x{value:08X}"


@dataclass(frozen=True)
class Payload:
    """The bytes ``[offset, offset + length)`` of an OTA file, of a format with nothing to check.

    ``valid`` is True or False when the format has a check, None otherwise; ``problem``
    says why it is False.  Subclasses add their format's fields.
    """

    format: PayloadFormat
    offset: int = 0
    length: int = 0
    problem: str | None = None

    @property
    def valid(self) -> bool | None:
        return None

    @property
    def details(self) -> MappingProxyType[str, Any]:
        """The format's fields as the JSON key ``details`` shows them."""
        return MappingProxyType({k: v for k, v in self._details() if v is not None})

    def _details(self) -> list[tuple[str, Any]]:
        return []

    def finding_code(self) -> str | None:
        """The error code a failed check is reported as (None: this kind is never invalid)."""
        return None

    def to_json(self) -> dict[str, Any]:
        details = dict(self.details)
        if self.problem is not None:
            details["problem"] = self.problem
        return {"format": self.format.value, "valid": self.valid, "details": details}


@dataclass(frozen=True)
class SilabsTag:
    """One GBL/EBL tag header: its id (``width`` hex digits), offset in the image, length."""

    tag: int
    offset: int
    length: int
    width: int

    def to_json(self) -> dict[str, Any]:
        return {"tag": f"0x{self.tag:0{self.width}X}", "offset": self.offset, "length": self.length}


@dataclass(frozen=True)
class SilabsPayload(Payload):
    """A Silicon Labs GBL or EBL image walked tag by tag, its CRC-32 checked.

    ``version``/``type`` come from a GBL header tag, ``encrypted`` from an EBL's first
    tag; a GBL header's ``type`` flags say whether it is encrypted (0x1) or signed
    (0x100), which :meth:`features` words for people; ``compression`` names the algorithm
    of a compressed program-data tag, when there is one.  The CRC fields and
    ``bytes_after_end`` are set once the end tag was reached.
    """

    tags: tuple[SilabsTag, ...] = ()
    tag_count: int = 0
    version: int | None = None
    type: int | None = None
    encrypted: bool | None = None
    compression: str | None = None
    crc32_stored: int | None = None
    crc32_computed: int | None = None
    bytes_after_end: int | None = None
    padding_is_ff: bool | None = None

    @property
    def valid(self) -> bool:
        return self.problem is None

    def _details(self) -> list[tuple[str, Any]]:
        return [
            ("version", None if self.version is None else _hex32(self.version)),
            ("type", self.type),
            ("encrypted", self.encrypted),
            ("compression", self.compression),
            ("crc32_stored", None if self.crc32_stored is None else _hex32(self.crc32_stored)),
            ("crc32_computed", None if self.crc32_computed is None else _hex32(self.crc32_computed)),
            ("bytes_after_end", self.bytes_after_end),
            ("padding_is_ff", self.padding_is_ff),
            ("tag_count", self.tag_count),
            ("tags", [t.to_json() for t in self.tags]),
        ]

    @property
    def features(self) -> list[str]:
        """``signed``, ``encrypted``, ``lzma-compressed``: what a summary line says of it."""
        flags = self.type or 0
        out = ["signed"] if flags & GBL_TYPE_SIGNED else []
        if flags & GBL_TYPE_ENCRYPTED or self.encrypted:
            out.append("encrypted")
        if self.compression:
            out.append(f"{self.compression}-compressed")
        return out

    def finding_code(self) -> str:
        crc_differs = self.crc32_stored is not None and self.crc32_stored != self.crc32_computed
        return "payload-crc" if crc_differs else "payload-structure"


@dataclass(frozen=True)
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
            ("version", None if c.version is None else _hex32(c.version)),
            ("crc32_stored", None if c.crc32_stored is None else _hex32(c.crc32_stored)),
            ("crc32_computed", None if c.crc32_computed is None else _hex32(c.crc32_computed)),
        ]

    def finding_code(self) -> str:
        return "payload"  # one verdict, as on the device: it boots the image or it does not


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class TiPayload(Payload):
    """A TI OAD image: its 8-byte image id, and the length and CRC its header states."""

    image_id: str = ""
    image_length: int | None = None
    crc32_stored: int | None = None

    def _details(self) -> list[tuple[str, Any]]:
        crc = None if self.crc32_stored is None else _hex32(self.crc32_stored)
        return [("image_id", self.image_id), ("image_length", self.image_length), ("crc32_stored", crc)]


@dataclass(frozen=True)
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
                ("load_address", _hex32(self.header.load_address)),
                ("flags", _hex32(self.header.flags)),
                ("protected_tlv_size", self.header.protected_tlv_size),
                ("tlvs", [_tlv_json(t) for t in self.tlvs]),
            ]
        return fields


def _tlv_json(tlv: Tlv) -> dict[str, Any]:
    return {
        "type": tlv.name,
        "id": f"0x{tlv.type:02X}",
        "offset": tlv.offset,
        "length": tlv.length,
        "protected": tlv.protected,
    }


@dataclass(frozen=True)
class EspPayload(Payload):
    """An Espressif app image: chip id and the app descriptor's version and project name."""

    chip_id: int = 0
    version: str | None = None
    project_name: str | None = None

    def _details(self) -> list[tuple[str, Any]]:
        return [("chip_id", self.chip_id), ("version", self.version), ("project_name", self.project_name)]


def first_gbl(payloads: Sequence[Payload]) -> Payload | None:
    """The GBL upgrade image whose signature ``--public-key`` checks (None: an XBee file's)."""
    return next((p for p in payloads if p.format is PayloadFormat.GBL), None)


def signature_subject(payloads: Sequence[Payload]) -> str:
    """Whose signature ``--public-key`` checks, in the words a summary uses."""
    if first_gbl(payloads) is not None:
        return "GBL"
    if any(isinstance(p, McubootPayload) and p.header is not None for p in payloads):
        return "MCUboot"
    return "XBee file-system"
