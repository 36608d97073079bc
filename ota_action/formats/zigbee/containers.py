"""Vendor containers around an ordinary OTA file: find the inner file by the container's own fields.

A container is recognised only by its own structure, never by searching for the OTA
magic number in arbitrary data (a firmware image can hold those four bytes anywhere):

``ikea-ngis``
    IKEA's signed files start with ``NGIS``; little-endian u32 fields at offset 16 and
    20 give the inner file's offset and length (zigpy reads the same two fields).  The
    bytes after the inner file (512 in real files, a signature block) are the trailer.
    A file that starts with ``NGIS`` but whose fields point outside it, or at something
    that is not an OTA file, is a broken container: :class:`FormatError` says which field.
``legrand``
    A u32 little-endian prefix that equals the inner file's own total image size,
    followed at offset 4 by the OTA magic number; Legrand appends a 17-byte trailer.
    All three facts must agree (prefix, magic at 4, the inner header's total image
    size), so four arbitrary bytes in front of an OTA file are not enough.
``third-reality``
    A 152-byte header: a SHA-512 of everything from offset 64 on, then at offset 68 a
    u32 that is the file size minus 64; the OTA file starts at offset 152.  The size
    field and the magic at 152 recognise it; the SHA-512 is checked (``valid``).

Anything else that does not start with the OTA magic number is not a Zigbee OTA file.
"""

from __future__ import annotations

import enum
import hashlib
from typing import Any, BinaryIO, NamedTuple

from ota_action.errors import FormatError
from ota_action.formats.zigbee.header import MAGIC
from ota_action.formats.zigbee.streams import FileSlice, chunks, read_at


class ContainerKind(enum.StrEnum):
    """The vendor wrapper an OTA file came in."""

    IKEA_NGIS = "ikea-ngis"
    LEGRAND = "legrand"
    THIRD_REALITY = "third-reality"


_MAGIC_BYTES = MAGIC.to_bytes(4, "little")
NGIS = b"NGIS"
NGIS_HEADER_SIZE = 28  # the fields read below end at 24; the first real one ends at 28
LEGRAND_PREFIX = 4
THIRD_REALITY_HEADER = 152
_TOTAL_SIZE_OFFSET = 52  # total image size inside an OTA header


class Container(NamedTuple):
    """Where the OTA file sits inside a container, in the outer file's offsets.

    ``valid`` is the container's own check where it has one (Third Reality's SHA-512),
    None where there is nothing ota-action can check (IKEA's signature, Legrand's suffix).
    """

    kind: ContainerKind
    offset: int
    length: int
    trailer_length: int
    valid: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "offset": self.offset,
            "length": self.length,
            "trailer_length": self.trailer_length,
            "valid": self.valid,
        }

    def open(self, f: BinaryIO) -> FileSlice:
        """The inner OTA file as a file object of its own."""
        return FileSlice(f, self.offset, self.length)


def _u32(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 4], "little")


def find_container(f: BinaryIO, size: int) -> Container | None:
    """The container around the OTA file in ``f`` (``size`` bytes), or None.

    None means either a plain OTA file (magic at offset 0) or no known container; the
    caller then decodes the file as it is and reports 'not a Zigbee OTA file' itself.
    """
    head = read_at(f, 0, NGIS_HEADER_SIZE)
    if head[:4] == _MAGIC_BYTES:
        return None
    if head[:4] == NGIS:
        return _ikea(f, size, head)
    return _legrand(f, size, head) or _third_reality(f, size)


def _ikea(f: BinaryIO, size: int, head: bytes) -> Container:
    if len(head) < NGIS_HEADER_SIZE:
        raise FormatError(
            f"IKEA NGIS container: file is {size} bytes, too short for the "
            f"{NGIS_HEADER_SIZE}-byte container header"
        )
    offset, length = _u32(head, 16), _u32(head, 20)
    if offset < NGIS_HEADER_SIZE:
        raise FormatError(
            f"IKEA NGIS container: inner file offset {offset} points inside the "
            f"{NGIS_HEADER_SIZE}-byte container header"
        )
    if offset + length > size:
        raise FormatError(
            f"IKEA NGIS container: inner file at offset {offset} with length {length} "
            f"runs past the end of the {size}-byte file"
        )
    magic = read_at(f, offset, 4)
    if length < 4 or magic != _MAGIC_BYTES:
        raise FormatError(
            f"IKEA NGIS container: no Zigbee OTA file at offset {offset} "
            f"(found {magic[: max(0, min(4, length))].hex() or 'nothing'})"
        )
    return Container(ContainerKind.IKEA_NGIS, offset, length, size - offset - length)


def _legrand(f: BinaryIO, size: int, head: bytes) -> Container | None:
    if len(head) < LEGRAND_PREFIX + 4 or head[4:8] != _MAGIC_BYTES:
        return None
    length = _u32(head, 0)
    if LEGRAND_PREFIX + length > size:
        return None
    total = read_at(f, LEGRAND_PREFIX + _TOTAL_SIZE_OFFSET, 4)
    if len(total) < 4 or _u32(total, 0) != length:
        return None
    return Container(ContainerKind.LEGRAND, LEGRAND_PREFIX, length, size - LEGRAND_PREFIX - length)


def _third_reality(f: BinaryIO, size: int) -> Container | None:
    if size <= THIRD_REALITY_HEADER:
        return None
    head = read_at(f, 0, THIRD_REALITY_HEADER + 4)
    if _u32(head, 68) + 64 != size or head[THIRD_REALITY_HEADER:] != _MAGIC_BYTES:
        return None
    digest = hashlib.sha512()
    for piece in chunks(f, 64, size):
        digest.update(piece)
    return Container(
        ContainerKind.THIRD_REALITY,
        THIRD_REALITY_HEADER,
        size - THIRD_REALITY_HEADER,
        0,
        valid=digest.digest() == head[:64],
    )
