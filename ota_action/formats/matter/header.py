"""The Matter OTA image header: one typed class, one field table for encode and decode.

Matter Core specification, "OTA Software Update File Format": a fixed prefix (u32 file
identifier 0x1BEEF11E, u64 total size, u32 header size, all little-endian), then the
header, an anonymous TLV structure whose context tags are listed in :data:`FIELDS`, then
the payload.  :meth:`MatterHeader.encode` writes the fields in tag order, as Commander
does; :meth:`MatterHeader.decode` takes them in any order and any integer width (the
specification fixes neither), refuses a duplicate, a missing required field, a wrong
type or a value wider than its field, and keeps the tags it does not know.
"""

from __future__ import annotations

import enum
import hashlib
import struct
from typing import Any

from ota_action.errors import FormatError
from ota_action.formats.matter.tlv import Kind, decode_structure, encode_element, encode_structure
from ota_action.records import field, record, replace

FILE_IDENTIFIER = 0x1BEEF11E
PREFIX = struct.Struct("<IQI")  # file identifier, total size, header size
PREFIX_SIZE = PREFIX.size
MAX_HEADER_SIZE = 0x10000  # every field at its largest needs ~450 bytes; beyond this is not a header
DEVICE_MAX_HEADER_SIZE = 1024  # connectedhomeip's OTAImageHeaderParser (kMaxHeaderSize) refuses more
MAX_VERSION_STRING = 64  # bytes of UTF-8 (specification: length 1..64)
MAX_RELEASE_NOTES_URL = 256


class DigestType(enum.IntEnum):
    """Image digest types: the IANA "Named Information Hash Algorithm" registry ids."""

    SHA256 = 1
    SHA256_128 = 2
    SHA256_120 = 3
    SHA256_96 = 4
    SHA256_64 = 5
    SHA256_32 = 6
    SHA384 = 7
    SHA512 = 8
    SHA3_224 = 9
    SHA3_256 = 10
    SHA3_384 = 11
    SHA3_512 = 12

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name people write: ``sha256``, ``sha256-128``, ``sha3-256``."""
        return self.name.lower().replace("_", "-")

    @property
    def hashlib_name(self) -> str:
        """``sha3_256`` for the SHA-3 family, the untruncated ``sha256`` for SHA-256's forms."""
        return self.name.lower() if self.name.startswith("SHA3") else self.name.lower().split("_")[0]

    @property
    def digest_size(self) -> int:
        """Bytes of the stored digest (the truncated SHA-256 forms keep the leading bits)."""
        if self.name.startswith("SHA256_"):
            return int(self.name.split("_")[1]) // 8
        return hashlib.new(self.hashlib_name).digest_size

    def hasher(self) -> Any:
        return hashlib.new(self.hashlib_name)

    def finish(self, hasher: Any) -> bytes:
        digest: bytes = hasher.digest()
        return digest[: self.digest_size]


# What Commander's ``ota create --type matter --digest`` offers (and so what we build with).
BUILD_DIGESTS = (
    DigestType.SHA256,
    DigestType.SHA384,
    DigestType.SHA512,
    DigestType.SHA3_224,
    DigestType.SHA3_256,
    DigestType.SHA3_384,
    DigestType.SHA3_512,
)


@record
class Field:
    """One header field: its context tag, attribute, TLV kind and bound.

    ``bound`` is the number of bits of an integer, or the most bytes of a string that
    decoding accepts (the specification's limits are checked as findings, not here, so
    an over-long string still decodes and is reported).
    """

    tag: int
    name: str
    kind: Kind
    bound: int
    required: bool = True


FIELDS = (
    Field(0, "vendor_id", Kind.UNSIGNED, 16),
    Field(1, "product_id", Kind.UNSIGNED, 16),
    Field(2, "software_version", Kind.UNSIGNED, 32),
    Field(3, "software_version_string", Kind.UTF8, MAX_HEADER_SIZE),
    Field(4, "payload_size", Kind.UNSIGNED, 64),
    Field(5, "min_applicable_version", Kind.UNSIGNED, 32, required=False),
    Field(6, "max_applicable_version", Kind.UNSIGNED, 32, required=False),
    Field(7, "release_notes_url", Kind.UTF8, MAX_HEADER_SIZE, required=False),
    Field(8, "digest_type", Kind.UNSIGNED, 8),
    Field(9, "digest", Kind.BYTES, MAX_HEADER_SIZE),
)
BY_TAG = {f.tag: f for f in FIELDS}


@record
class MatterHeader:
    """Every field of the TLV header.  ``digest_type`` is the raw id (an unknown one still
    decodes, so ``verify`` can say so); ``unknown_tags`` lists tags this reader skipped."""

    vendor_id: int
    product_id: int
    software_version: int
    software_version_string: str
    payload_size: int
    digest_type: int
    digest: bytes
    min_applicable_version: int | None = None
    max_applicable_version: int | None = None
    release_notes_url: str | None = None
    unknown_tags: tuple[int, ...] = ()
    # The tags in the order the file holds them (-1: not a context tag); not part of equality.
    tag_order: tuple[int, ...] = field(default=(), compare=False)

    @property
    def digest_kind(self) -> DigestType | None:
        try:
            return DigestType(self.digest_type)
        except ValueError:
            return None

    def encode(self) -> bytes:
        """The TLV structure, fields in tag order, each in its shortest form."""
        elements = []
        for f in FIELDS:
            value = getattr(self, f.name)
            if value is None:
                continue
            if f.kind is Kind.UNSIGNED and not 0 <= value < 1 << f.bound:
                raise ValueError(f"{f.name} {value} does not fit in {f.bound} bits")
            elements.append(encode_element(f.tag, f.kind, value))
        return encode_structure(elements)

    @property
    def in_device_order(self) -> bool:
        """Whether a device reads this header: connectedhomeip's OTAImageHeaderParser takes
        the tags in order (0-4, then 5, 6, 7 when present, then 8 and 9) and skips only
        what follows the digest.  A header not decoded from a file is in order."""
        if not self.tag_order:
            return True
        order = self.tag_order
        head = order[: order.index(9) + 1] if 9 in order else order
        in_order = list(head) == sorted(set(head)) and all(t in BY_TAG for t in head)
        return in_order and not any(t in BY_TAG for t in order[len(head) :])

    def with_digest(self, digest: bytes) -> MatterHeader:
        return replace(self, digest=digest)

    @classmethod
    def decode(cls, data: bytes) -> MatterHeader:
        """The header in ``data``, which it must fill exactly."""
        header, used = cls.decode_prefix(data)
        if used != len(data):
            raise FormatError(f"header TLV ends at byte {used} but the header size says {len(data)}")
        return header

    @classmethod
    def decode_prefix(cls, data: bytes) -> tuple[MatterHeader, int]:
        """The header ``data`` starts with, and how many bytes it takes (a reader on a device
        stops at the end of the structure, so bytes after it are reported, not refused)."""
        members, used = decode_structure(data)
        values: dict[str, Any] = {}
        unknown: list[int] = []
        for member in members:
            known = BY_TAG.get(member.tag) if member.tag is not None else None
            if known is None:
                unknown.append(-1 if member.tag is None else member.tag)
                continue
            if known.name in values:
                raise FormatError(f"header TLV has tag {known.tag} ({known.name}) twice")
            if member.kind is not known.kind:
                raise FormatError(f"header TLV tag {known.tag} ({known.name}) is not an {known.kind.value}")
            if known.kind is Kind.UNSIGNED and not 0 <= int(member.value or 0) < 1 << known.bound:
                raise FormatError(
                    f"header TLV tag {known.tag} ({known.name}) is wider than {known.bound} bits"
                )
            values[known.name] = member.value
        missing = [f"{f.tag} ({f.name})" for f in FIELDS if f.required and f.name not in values]
        if missing:
            raise FormatError("header TLV lacks required tag " + ", ".join(missing))
        order = tuple(-1 if m.tag is None else m.tag for m in members)
        return cls(**values, unknown_tags=tuple(unknown), tag_order=order), used


def encode_prefix(header_size: int, payload_size: int) -> bytes:
    return PREFIX.pack(FILE_IDENTIFIER, PREFIX_SIZE + header_size + payload_size, header_size)


def is_matter(first_bytes: bytes) -> bool:
    """Whether a file starts with the Matter OTA file identifier (the cheap sniff)."""
    return len(first_bytes) >= 4 and int.from_bytes(first_bytes[:4], "little") == FILE_IDENTIFIER
