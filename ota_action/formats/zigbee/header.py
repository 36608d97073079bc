"""The OTA upgrade file header (ZigBee 095264r23 §6.3): one table that encodes and decodes.

``LAYOUT`` is the only description of the header bytes.  Each row names a field, its
little-endian ``struct`` code, and the field-control bit that makes it present (``None``
for the fixed 56-byte part).  :func:`encode_header` and :func:`decode_header` both walk
it, so a field cannot be written one way and read another.
"""

from __future__ import annotations

import enum
import struct
from typing import Any, NamedTuple

from ota_action.errors import FormatError, InputError

MAGIC = 0x0BEEF11E
MATTER_FILE_IDENTIFIER = 0x1BEEF11E  # formats/matter: a file a Zigbee reader is often handed by mistake
HEADER_VERSION = 0x0100
STRING_SIZE = 32
FIXED_SIZE = 56


class FieldControl(enum.IntFlag):
    """Header field-control bits (§6.3.4): each makes optional header fields present."""

    SECURITY_CREDENTIAL = 0x0001
    DEVICE_SPECIFIC = 0x0002
    HARDWARE_VERSIONS = 0x0004


# The names the rest of the code (and other branches) import.
FC_SECURITY_CREDENTIAL = FieldControl.SECURITY_CREDENTIAL
FC_DEVICE_SPECIFIC = FieldControl.DEVICE_SPECIFIC
FC_HARDWARE_VERSIONS = FieldControl.HARDWARE_VERSIONS
FC_KNOWN = FC_SECURITY_CREDENTIAL | FC_DEVICE_SPECIFIC | FC_HARDWARE_VERSIONS


class Field(NamedTuple):
    name: str
    code: str  # struct format code, little-endian
    control_bit: int | None = None

    @property
    def size(self) -> int:
        return struct.calcsize("<" + self.code)


LAYOUT: tuple[Field, ...] = (
    Field("upgrade_file_id", "I"),
    Field("header_version", "H"),
    Field("header_length", "H"),
    Field("field_control", "H"),
    Field("manufacturer_code", "H"),
    Field("image_type", "H"),
    Field("file_version", "I"),
    Field("zigbee_stack_version", "H"),
    Field("header_string", "32s"),
    Field("total_image_size", "I"),
    Field("security_credential_version", "B", FC_SECURITY_CREDENTIAL),
    # The EUI64 as an integer whose hex form is the usual text (most significant first);
    # packing it little-endian gives the reversed byte order the spec stores.
    Field("upgrade_file_destination", "Q", FC_DEVICE_SPECIFIC),
    Field("minimum_hardware_version", "H", FC_HARDWARE_VERSIONS),
    Field("maximum_hardware_version", "H", FC_HARDWARE_VERSIONS),
)


# LAYOUT as the decoder walks it, worked out once: each field's name, struct, size and
# control bit as a plain int (0: always present).  Computing sizes and testing IntFlag
# bits per field per file was most of a header's decoding time in a batch.
_DECODE: tuple[tuple[str, struct.Struct, int, int], ...] = tuple(
    (f.name, struct.Struct("<" + f.code), f.size, int(f.control_bit or 0)) for f in LAYOUT
)


def header_size(field_control: int) -> int:
    """Size in bytes the field-control bits imply (56..69)."""
    return sum(size for _name, _code, size, bit in _DECODE if not bit or field_control & bit)


class OtaHeader(NamedTuple):
    """Decoded header values; optional fields are ``None`` when field control omits them.

    ``header_length`` and ``field_control`` are stored as found so any file re-encodes to
    its own bytes; :meth:`create` derives them for new files.  ``extra`` holds header
    bytes beyond what field control describes (a header length larger than needed).
    """

    manufacturer_code: int
    image_type: int
    file_version: int
    header_string: bytes = bytes(STRING_SIZE)
    zigbee_stack_version: int = 0x0002
    total_image_size: int = 0
    security_credential_version: int | None = None
    upgrade_file_destination: int | None = None
    minimum_hardware_version: int | None = None
    maximum_hardware_version: int | None = None
    header_version: int = HEADER_VERSION
    header_length: int = FIXED_SIZE
    field_control: int = 0
    upgrade_file_id: int = MAGIC
    extra: bytes = b""

    @classmethod
    def create(
        cls,
        *,
        manufacturer_code: int,
        image_type: int,
        file_version: int,
        header_string: bytes = b"",
        zigbee_stack_version: int = 0x0002,
        security_credential_version: int | None = None,
        upgrade_file_destination: int | None = None,
        minimum_hardware_version: int | None = None,
        maximum_hardware_version: int | None = None,
    ) -> OtaHeader:
        """A header for a new file, with field control and header length derived.

        Hardware versions are both-or-neither in the format; giving one bound fills the
        other with the widest value (0x0000 / 0xFFFF).
        """
        if len(header_string) > STRING_SIZE:
            raise InputError(
                f"is {len(header_string)} bytes; the header string holds at most {STRING_SIZE}",
                field="string",
                value=header_string.decode("latin-1"),
            )
        hw_given = minimum_hardware_version is not None or maximum_hardware_version is not None
        if hw_given:
            minimum_hardware_version = minimum_hardware_version or 0x0000
            maximum_hardware_version = (
                0xFFFF if maximum_hardware_version is None else maximum_hardware_version
            )
            if minimum_hardware_version > maximum_hardware_version:
                raise InputError(
                    f"minimum hardware version 0x{minimum_hardware_version:04X} is above "
                    f"the maximum 0x{maximum_hardware_version:04X}",
                    field="min_hwv",
                    value=f"0x{minimum_hardware_version:04X}",
                )
        control = (
            (FC_SECURITY_CREDENTIAL if security_credential_version is not None else 0)
            | (FC_DEVICE_SPECIFIC if upgrade_file_destination is not None else 0)
            | (FC_HARDWARE_VERSIONS if hw_given else 0)
        )
        return cls(
            manufacturer_code=manufacturer_code,
            image_type=image_type,
            file_version=file_version,
            header_string=header_string.ljust(STRING_SIZE, b"\0"),
            zigbee_stack_version=zigbee_stack_version,
            security_credential_version=security_credential_version,
            upgrade_file_destination=upgrade_file_destination,
            minimum_hardware_version=minimum_hardware_version,
            maximum_hardware_version=maximum_hardware_version,
            field_control=control,
            header_length=header_size(control),
        )

    def with_total_size(self, total: int) -> OtaHeader:
        return self._replace(total_image_size=total)

    @property
    def header_string_text(self) -> str:
        """The string as people read it: up to the first NUL, undecodable bytes escaped."""
        raw = self.header_string.split(b"\0", 1)[0]
        return raw.decode("ascii", errors="backslashreplace")

    def to_json(self) -> dict[str, int | str | None]:
        """The header as every JSON output writes it (``inspect --json``, ``ota.json``):
        the spec's names in snake_case, numbers as numbers, the string as text and as its
        raw hex, the destination EUI64 as 16 hex digits (most significant first)."""
        dest = self.upgrade_file_destination
        return {
            "header_version": self.header_version,
            "header_length": self.header_length,
            "field_control": int(self.field_control),
            "manufacturer_code": self.manufacturer_code,
            "image_type": self.image_type,
            "file_version": self.file_version,
            "zigbee_stack_version": self.zigbee_stack_version,
            "header_string": self.header_string_text,
            "header_string_hex": self.header_string.hex(),
            "total_image_size": self.total_image_size,
            "security_credential_version": self.security_credential_version,
            "upgrade_file_destination": None if dest is None else f"{dest:016X}",
            "minimum_hardware_version": self.minimum_hardware_version,
            "maximum_hardware_version": self.maximum_hardware_version,
        }


def encode_header(header: OtaHeader) -> bytes:
    """Serialise ``header``; present optional fields follow ``header.field_control``."""
    out = bytearray()
    for f in LAYOUT:
        if f.control_bit is not None and not header.field_control & f.control_bit:
            continue
        value = getattr(header, f.name)
        if value is None:
            raise ValueError(f"field control 0x{header.field_control:04X} needs {f.name}")
        out += struct.pack("<" + f.code, value)
    out += header.extra
    if len(out) != header.header_length:
        raise ValueError(f"header is {len(out)} bytes but header_length is {header.header_length}")
    return bytes(out)


def decode_header(data: bytes | memoryview) -> OtaHeader:
    """Parse the header at the start of ``data``.

    Raises :class:`FormatError` for a wrong magic number, a truncated header, or a
    header length smaller than field control requires.  A header length larger than
    needed is accepted (its surplus bytes kept in ``extra``), as zigbee-herdsman does.
    """
    view = memoryview(data)
    if len(view) < 4:
        raise FormatError(f"file is {len(view)} bytes, too short for an OTA header")
    magic = int.from_bytes(view[:4], "little")
    if magic == MATTER_FILE_IDENTIFIER:  # say what it is: the commands that read Matter name themselves
        raise FormatError("not a Zigbee OTA file: it is a Matter OTA image (file identifier 0x1BEEF11E)")
    if magic != MAGIC:
        raise FormatError(f"not a Zigbee OTA file: magic number 0x{magic:08X}, expected 0x{MAGIC:08X}")
    if len(view) < FIXED_SIZE:
        raise FormatError(f"file is {len(view)} bytes, too short for the {FIXED_SIZE}-byte OTA header")
    values: dict[str, Any] = {}
    offset = 0
    control = int.from_bytes(view[8:10], "little")
    needed = header_size(control)
    for name, code, size, bit in _DECODE:
        if bit and not control & bit:
            continue
        if offset + size > len(view):
            raise FormatError(
                f"header truncated: field control 0x{control:04X} needs {needed} bytes, file has {len(view)}"
            )
        (values[name],) = code.unpack_from(view, offset)
        offset += size
    length = values["header_length"]
    if length < needed:
        raise FormatError(
            f"header length {length} is smaller than the {needed} bytes field control "
            f"0x{control:04X} requires"
        )
    if length > len(view):
        raise FormatError(f"header length {length} is beyond the end of the {len(view)}-byte file")
    values["extra"] = bytes(view[needed:length])
    return OtaHeader(**values)
