"""The Telink application image's header fields, and telling a Telink image by its first bytes.

Apart from :mod:`ota_action.formats.telink.image` (the fix-ups and the boot code's
check), so that identifying an upgrade image's format imports no more than these
offsets (issue 25: ``verify`` of a file with no Telink image loads none of the rest).
"""

from __future__ import annotations

VERSION_OFFSET = 2
MAGIC = b"\x5d\x02"
MAGIC_OFFSET = 6
MARKER = b"KNLT"  # the start-up flag 0x544C4E4B, little-endian
MARKER_OFFSET = 8
SIZE_OFFSET = 0x18
HEAD_SIZE = SIZE_OFFSET + 4  # every field above ends by here


def is_telink(head: bytes) -> bool:
    """True when ``head`` (the image's first bytes) carries the ``KNLT`` start-up flag."""
    return head[MARKER_OFFSET : MARKER_OFFSET + len(MARKER)] == MARKER


def has_magic(head: bytes) -> bool:
    """True when the OTA magic ``5D 02`` is already at offset 6 (the image is prepared)."""
    return head[MAGIC_OFFSET : MAGIC_OFFSET + len(MAGIC)] == MAGIC


def file_version(head: bytes) -> int | None:
    """The build's file version (u32 LE at offset 2); None unless ``head`` is a Telink image."""
    if len(head) < HEAD_SIZE or not is_telink(head):
        return None
    return int.from_bytes(head[VERSION_OFFSET : VERSION_OFFSET + 4], "little")
