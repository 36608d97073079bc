"""One typed class per payload kind, as zigpy has one class per OTA image kind.

Each class holds its format's fields as values (ints, bools, tuples), not as a dict the
rules dig into; :attr:`Payload.details` is derived from them, in the order and with the
text forms the JSON output has always used (hex strings for CRCs and versions), so the
JSON is unchanged.  :meth:`Payload.finding_code` is the one place a payload kind says
which finding its failure is.

The kinds most OTA files never hold (Telink, MCUboot, TI, Espressif, a build's file)
live in :mod:`.payload_kinds`, imported only when an upgrade image is of one of them:
each frozen dataclass costs ~0.3 ms to create on Python 3.11 (issue 25).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any


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


def hex32(value: int) -> str:
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

    def notes(self) -> list[str]:
        """What a summary line adds after the offset and length (``signed``, ``version 1.2.3``)."""
        return []

    @property
    def signed_as(self) -> str | None:
        """Whose signature ``verify --public-key`` checks in it (``GBL``, ``MCUboot``), if any."""
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
            ("version", None if self.version is None else hex32(self.version)),
            ("type", self.type),
            ("encrypted", self.encrypted),
            ("compression", self.compression),
            ("crc32_stored", None if self.crc32_stored is None else hex32(self.crc32_stored)),
            ("crc32_computed", None if self.crc32_computed is None else hex32(self.crc32_computed)),
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

    def notes(self) -> list[str]:
        return self.features

    @property
    def signed_as(self) -> str | None:
        return "GBL" if self.format is PayloadFormat.GBL else None


def first_gbl(payloads: Sequence[Payload]) -> Payload | None:
    """The GBL upgrade image whose signature ``--public-key`` checks (None: an XBee file's)."""
    return next((p for p in payloads if p.format is PayloadFormat.GBL), None)


def signature_subject(payloads: Sequence[Payload]) -> str:
    """Whose signature ``--public-key`` checks, in the words a summary uses."""
    subjects = {p.signed_as for p in payloads}
    return next((s for s in ("GBL", "MCUboot") if s in subjects), "XBee file-system")
