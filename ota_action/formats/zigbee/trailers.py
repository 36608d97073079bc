"""Bytes after the total image size: the one trailer convention that can be checked.

Salus (and files published with Salus') append the CRC-32 (zlib, little-endian) of
every byte before it: exactly 4 bytes after the image whose value is that CRC.  Two
different 4-byte values are equal by chance once in 2**32, so a match recognises the
trailer.  A mismatch cannot tell a damaged Salus file from a vendor's unrelated 4 bytes
(SDevices appends 4, 8 or 16 bytes that are no CRC), so a mismatch is *invalid* only
for Salus' own manufacturer code (0x1078, Computime, the maker of Salus devices);
elsewhere it stays unidentified trailing data.
"""

from __future__ import annotations

import enum
from typing import Any, BinaryIO, NamedTuple

from ota_action.formats.zigbee.streams import crc32_range, read_at


class TrailerKind(enum.StrEnum):
    """What the bytes after the total image size are."""

    CRC32_LE = "crc32-le"
    UNKNOWN = "unknown"


CRC32_LE = TrailerKind.CRC32_LE
UNKNOWN = TrailerKind.UNKNOWN
CRC_SIZE = 4
SALUS_MANUFACTURER = 0x1078


class Trailer(NamedTuple):
    """``length`` bytes at ``offset`` after the image.

    ``valid`` is None for ``unknown`` trailers; ``stored``/``computed`` are set
    whenever a CRC-32 was compared, so a message can show both.
    """

    kind: TrailerKind
    offset: int
    length: int
    valid: bool | None
    stored: int | None = None
    computed: int | None = None

    @property
    def is_crc32(self) -> bool:
        """True for the Salus convention, matching (``valid``) or not."""
        return self.kind is TrailerKind.CRC32_LE

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "valid": self.valid,
            "offset": self.offset,
            "length": self.length,
            "stored": None if self.stored is None else f"0x{self.stored:08X}",
            "computed": None if self.computed is None else f"0x{self.computed:08X}",
        }


def find_trailer(
    f: BinaryIO, image_end: int, size: int, *, manufacturer_code: int | None = None
) -> Trailer | None:
    """Classify the bytes in ``[image_end, size)``; None when there are none.

    ``image_end`` is where the OTA image ends (its total image size, in this file's
    offsets); the CRC covers ``[0, image_end)``.
    """
    length = size - image_end
    if length <= 0 or image_end < 0:
        return None
    if length != CRC_SIZE:
        return Trailer(UNKNOWN, image_end, length, None)
    raw = read_at(f, image_end, CRC_SIZE)
    if len(raw) != CRC_SIZE:  # the file shrank under us
        return Trailer(UNKNOWN, image_end, length, None)
    stored = int.from_bytes(raw, "little")
    computed = crc32_range(f, 0, image_end)
    if stored == computed:
        return Trailer(CRC32_LE, image_end, length, True, stored, computed)
    if manufacturer_code == SALUS_MANUFACTURER:
        return Trailer(CRC32_LE, image_end, length, False, stored, computed)
    return Trailer(UNKNOWN, image_end, length, None, stored, computed)


def has_crc_trailer(f: BinaryIO, image_end: int, size: int) -> bool:
    """True when the bytes after the image are exactly its CRC-32 (zlib, LE): Salus' trailer.

    The one rule every command applies (``verify`` reports it, ``rewrap`` and ``extract``
    keep it): :func:`find_trailer` recognises it the same way.
    """
    found = find_trailer(f, image_end, size)
    return found is not None and found.is_crc32 and found.valid is True
