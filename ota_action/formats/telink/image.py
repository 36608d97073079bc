"""The Telink application image: its fields, the OTA fix-ups, and the boot code's check.

A Telink application binary (TLSR825x/827x/B91, Telink's Zigbee SDK) starts with a
32-byte header the OTA boot code reads: the build's file version as a u32 little-endian
at offset 2, a 2-byte OTA magic ``5D 02`` at offset 6, the start-up flag ``KNLT`` (the
u32 0x544C4E4B) at offset 8 and the image size as a u32 little-endian at offset 0x18.
The compiler leaves the magic and the size blank; custom-firmware projects fix them up in
a script before wrapping the image in the Zigbee OTA header (the same lines in several
projects), and :class:`TelinkPrepared` does the same as a stream:

1. pad the image with 0xFF to a multiple of 16 bytes;
2. write the padded length + 4 (the CRC that follows) at 0x18;
3. write the magic ``5D 02`` at offset 6;
4. append zlib's CRC-32 of the result XOR 0xFFFFFFFF (the CRC register without its final
   inversion, as the boot code computes it), little-endian.

An image that already carries the magic is left as it is.  :func:`check_telink_stream` is what
the device does before it boots a new image (``ota_newImageValid`` in Telink's SDK): the
magic, the start-up flag, the size at 0x18 against the bytes received, and the CRC over
the first ``size - 4`` bytes against the 4 bytes that follow them.  A flipped byte, a
wrong size or a missing magic are each rejected by the device, so each is invalid here.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from typing import Protocol

from ota_action.errors import InputError
from ota_action.formats.telink.header import (
    HEAD_SIZE,
    MAGIC,
    MAGIC_OFFSET,
    MARKER_OFFSET,
    SIZE_OFFSET,
    file_version,
    has_magic,
    is_telink,
)
from ota_action.records import record

# The header's names callers have always taken from here, beside this module's own.
__all__ = [
    "BLOCK",
    "CRC_SIZE",
    "HEAD_SIZE",
    "PAD",
    "TelinkCheck",
    "TelinkPrepared",
    "check_telink_stream",
    "file_version",
    "has_magic",
    "is_telink",
    "prepared_length",
]

BLOCK = 16
PAD = 0xFF
CRC_SIZE = 4
_FINAL_XOR = 0xFFFFFFFF


class _Source(Protocol):
    """What :class:`TelinkPrepared` wraps: an upgrade image's length and chunks."""

    @property
    def length(self) -> int: ...

    def chunks(self) -> Iterator[bytes | bytearray | memoryview]: ...


def prepared_length(length: int) -> int:
    """The length of an unprepared ``length``-byte image after the fix-ups."""
    return length + (-length % BLOCK) + CRC_SIZE


def _refuse_head(head: bytes, length: int) -> None:
    if length < HEAD_SIZE:
        raise InputError(
            f"is {length} bytes, too short for a Telink application image (its header ends at "
            f"offset {HEAD_SIZE})",
            field="prepare",
        )
    if not is_telink(head):
        found = head[MARKER_OFFSET : MARKER_OFFSET + 4].hex(" ")
        raise InputError(
            f"is not a Telink application image: no start-up flag KNLT (4B 4E 4C 54) at offset 8 "
            f"(found {found})",
            field="prepare",
        )


@record
class TelinkPrepared:
    """An upgrade image source with Telink's OTA fix-ups applied as its bytes stream out.

    ``head`` is the source's first :data:`HEAD_SIZE` bytes, read by the caller once to
    decide: an image that already has the magic streams unchanged (the caller checks its
    CRC with :func:`check_telink_stream` first), any other is padded, patched and given its CRC.
    """

    source: _Source
    head: bytes

    def __post_init__(self) -> None:
        _refuse_head(self.head, self.source.length)

    @property
    def already_prepared(self) -> bool:
        return has_magic(self.head)

    @property
    def length(self) -> int:
        raw = self.source.length
        return raw if self.already_prepared else prepared_length(raw)

    def chunks(self) -> Iterator[bytes | bytearray | memoryview]:
        if self.already_prepared:
            yield from self.source.chunks()
            return
        crc = 0
        for piece in self._patched():
            crc = zlib.crc32(piece, crc)
            yield piece
        padding = bytes([PAD]) * (-self.source.length % BLOCK)
        crc = zlib.crc32(padding, crc)
        yield padding + (crc ^ _FINAL_XOR).to_bytes(CRC_SIZE, "little")

    def _patched(self) -> Iterator[bytes | bytearray | memoryview]:
        """The source's bytes with the magic and the size written into its first chunk."""
        first = bytearray()
        pieces = iter(self.source.chunks())
        for piece in pieces:
            first += piece
            if len(first) >= HEAD_SIZE:
                break
        first[MAGIC_OFFSET : MAGIC_OFFSET + len(MAGIC)] = MAGIC
        size = prepared_length(self.source.length)
        first[SIZE_OFFSET:HEAD_SIZE] = size.to_bytes(4, "little")
        yield first
        yield from pieces


@record
class TelinkCheck:
    """What :func:`check_telink_stream` found; ``problem`` is None when the device would accept it."""

    version: int | None
    size_field: int | None
    crc32_stored: int | None = None
    crc32_computed: int | None = None
    problem: str | None = None


def check_telink_stream(pieces: Iterable[bytes | bytearray | memoryview], length: int) -> TelinkCheck:
    """Check a ``length``-byte Telink image given as a stream of pieces, in one pass.

    The CRC covers every byte but the last 4, which are kept aside as the stored value,
    so memory stays bounded by the largest piece whatever the image's size.
    """
    stream = iter(pieces)
    head = bytearray()
    for piece in stream:
        head += piece
        if len(head) >= HEAD_SIZE:
            break
    if len(head) < HEAD_SIZE:
        return TelinkCheck(None, None, problem=f"Telink image is {len(head)} bytes, too short for its header")
    version = file_version(bytes(head))
    size = int.from_bytes(head[SIZE_OFFSET:HEAD_SIZE], "little")
    if not has_magic(bytes(head)):
        found = head[MAGIC_OFFSET : MAGIC_OFFSET + 2].hex(" ").upper()
        problem = f"Telink image has no OTA magic 5D 02 at offset 6 (found {found}): the device rejects it"
        return TelinkCheck(version, size, problem=problem)
    if size != length:
        problem = (
            f"Telink image size at offset 0x18 is {size}, but the upgrade image holds {length} bytes: "
            "the device rejects it"
        )
        return TelinkCheck(version, size, problem=problem)
    crc, tail, seen = 0, bytes(head), len(head)
    for piece in stream:
        seen += len(piece)
        if len(piece) >= CRC_SIZE:
            crc = zlib.crc32(piece[:-CRC_SIZE], zlib.crc32(tail, crc))
            tail = bytes(piece[-CRC_SIZE:])
        else:
            data = tail + bytes(piece)
            crc = zlib.crc32(data[:-CRC_SIZE], crc)
            tail = data[-CRC_SIZE:]
    if seen < length:
        return TelinkCheck(version, size, problem=f"Telink image is truncated: {seen} of {length} bytes")
    crc = zlib.crc32(tail[:-CRC_SIZE], crc)
    stored = int.from_bytes(tail[-CRC_SIZE:], "little")
    computed = crc ^ _FINAL_XOR
    mismatch = (
        f"Telink CRC-32 does not match: the image ends with 0x{stored:08X}, its first {size - CRC_SIZE} "
        f"bytes compute to 0x{computed:08X}"
    )
    return TelinkCheck(version, size, stored, computed, None if stored == computed else mismatch)
