"""Sub-elements (ZigBee 095264r23 §6.3.3): ``tag:u16le | length:u32le | data``.

Tag identifiers and the rules for which ones a *writer* may use live here; a *reader*
accepts any tag, because real files carry reserved ones (0xCDEF from Nordic, 0x0100).
"""

from __future__ import annotations

import enum
import io
import struct
from collections.abc import Iterable
from typing import BinaryIO, NamedTuple

from ota_action.errors import OPTION, Hint, InputError
from ota_action.records import field, record

TAG_HEADER_SIZE = 6
_TAG_HEADER = struct.Struct("<HI")


class Tag(enum.IntEnum):
    """Sub-element tag ids (§6.3.3, table 6.4) plus the padding element ota-action writes.

    A reader meets any 16-bit value; only these have names (see :func:`tag_name`).
    """

    UPGRADE_IMAGE = 0x0000
    ECDSA_SIGNATURE_SUITE_1 = 0x0001
    ECDSA_CERTIFICATE_SUITE_1 = 0x0002
    IMAGE_INTEGRITY_CODE = 0x0003
    PICTURE_DATA = 0x0004
    ECDSA_SIGNATURE_SUITE_2 = 0x0005
    ECDSA_CERTIFICATE_SUITE_2 = 0x0006
    MANUFACTURER_FIRST = 0xF000  # first of the manufacturer-specific range 0xF000-0xFFFF
    PADDING = 0xFFFF  # ota-action's (and ElCap's) alignment padding element


# The names the rest of the code (and other branches) import.
UPGRADE_IMAGE = Tag.UPGRADE_IMAGE
ECDSA_SIGNATURE_SUITE_1 = Tag.ECDSA_SIGNATURE_SUITE_1
ECDSA_CERTIFICATE_SUITE_1 = Tag.ECDSA_CERTIFICATE_SUITE_1
IMAGE_INTEGRITY_CODE = Tag.IMAGE_INTEGRITY_CODE
PICTURE_DATA = Tag.PICTURE_DATA
ECDSA_SIGNATURE_SUITE_2 = Tag.ECDSA_SIGNATURE_SUITE_2
ECDSA_CERTIFICATE_SUITE_2 = Tag.ECDSA_CERTIFICATE_SUITE_2
MANUFACTURER_FIRST = Tag.MANUFACTURER_FIRST
PADDING = Tag.PADDING

TAG_NAMES: dict[int, str] = {
    UPGRADE_IMAGE: "upgrade image",
    ECDSA_SIGNATURE_SUITE_1: "ECDSA signature (crypto suite 1)",
    ECDSA_CERTIFICATE_SUITE_1: "ECDSA signing certificate (crypto suite 1)",
    IMAGE_INTEGRITY_CODE: "image integrity code",
    PICTURE_DATA: "picture data",
    ECDSA_SIGNATURE_SUITE_2: "ECDSA signature (crypto suite 2)",
    ECDSA_CERTIFICATE_SUITE_2: "ECDSA signing certificate (crypto suite 2)",
}
SIGNATURE_TAGS = frozenset(
    {ECDSA_SIGNATURE_SUITE_1, ECDSA_CERTIFICATE_SUITE_1, ECDSA_SIGNATURE_SUITE_2, ECDSA_CERTIFICATE_SUITE_2}
)


def tag_name(tag: int) -> str:
    if tag in TAG_NAMES:
        return TAG_NAMES[tag]
    if tag == PADDING:
        return "padding (manufacturer-specific 0xFFFF)"
    if tag >= MANUFACTURER_FIRST:
        return "manufacturer-specific"
    return "reserved"


def is_reserved(tag: int) -> bool:
    return 0x0007 <= tag < MANUFACTURER_FIRST


class SubElement(NamedTuple):
    tag: int
    data: bytes

    def encode(self) -> bytes:
        return encode_tag_header(self.tag, len(self.data)) + self.data


def encode_tag_header(tag: int, length: int) -> bytes:
    return _TAG_HEADER.pack(tag, length)


@record
class ElementRef:
    """Where a sub-element sits in a file: ``offset`` is the tag id's position."""

    tag: int
    length: int
    offset: int

    @property
    def data_offset(self) -> int:
        return self.offset + TAG_HEADER_SIZE

    @property
    def end(self) -> int:
        return self.data_offset + self.length


@record
class Walk:
    """The result of walking sub-elements from ``start`` to ``stop``.

    ``problem`` is None when the walk ends exactly at ``stop``; otherwise it says how it
    failed (a truncated tag header, or an element that runs past ``stop``).  Memory is
    bounded whatever the file holds: ``elements`` keeps the first ``limit`` elements in
    file order, ``total`` counts them all, ``counts`` per tag, ``first`` is each tag's
    first element and ``last`` the last one (at most 65536 tags, so both stay small).
    """

    elements: tuple[ElementRef, ...]
    problem: str | None
    total: int = 0
    counts: dict[int, int] = field(default_factory=dict)
    first: dict[int, ElementRef] = field(default_factory=dict)
    last: ElementRef | None = None


ELEMENTS_LISTED = 1000  # elements a walk keeps in order; the rest are only counted
_WINDOW = 1 << 16  # bytes read at once while walking; a long element is skipped by a seek


def walk(data: bytes | memoryview, start: int, stop: int) -> Walk:
    """List every sub-element between ``start`` and ``stop`` of bytes already in memory."""
    return walk_file(io.BytesIO(data), start, stop, limit=None)


def walk_file(f: BinaryIO, start: int, stop: int, *, limit: int | None = ELEMENTS_LISTED) -> Walk:
    """Walk the sub-elements of a seekable file between ``start`` and ``stop``.

    Tag headers are read through a small window, so a flood of zero-length elements
    costs one read per 64 KiB and an element's data is never read, only seeked over.
    ``f`` is left open at an unspecified position.
    """
    found: list[ElementRef] = []
    counts: dict[int, int] = {}
    first: dict[int, ElementRef] = {}
    last_values: tuple[int, int, int] | None = None
    total = 0
    window, window_start = b"", start
    offset = start
    unpack = _TAG_HEADER.unpack_from
    problem: str | None = None
    while offset < stop:
        if offset + TAG_HEADER_SIZE > stop:
            problem = f"{stop - offset} stray bytes at offset {offset}, too few for a 6-byte tag header"
            break
        at = offset - window_start
        if at < 0 or at + TAG_HEADER_SIZE > len(window):
            f.seek(offset)
            window, window_start, at = f.read(min(_WINDOW, stop - offset)), offset, 0
            if len(window) < TAG_HEADER_SIZE:
                problem = f"the file ends at offset {offset + len(window)}, inside a tag header"
                break
        tag, length = unpack(window, at)
        end = offset + TAG_HEADER_SIZE + length
        if end > stop:
            problem = (
                f"sub-element 0x{tag:04X} at offset {offset} claims {length} bytes and runs "
                f"{end - stop} bytes past the total image size {stop}"
            )
            break
        # The flood case (millions of empty elements) runs this loop: build objects only
        # for what is kept, count the rest.
        total += 1
        if tag in counts:
            counts[tag] += 1
        else:
            counts[tag] = 1
            first[tag] = ElementRef(tag, length, offset)
        if limit is None or len(found) < limit:
            found.append(first[tag] if first[tag].offset == offset else ElementRef(tag, length, offset))
        last_values = (tag, length, offset)
        offset = end
    last = None if last_values is None else ElementRef(*last_values)
    return Walk(tuple(found), problem, total, counts, first, last)


def check_writable_tags(
    tags: Iterable[int], *, allow_reserved: bool = False, allow_duplicate: bool = False
) -> None:
    """Reject tag ids a user may not write directly, with the reason.

    A tag id given twice is refused unless ``allow_duplicate``: some real files repeat
    0x0000 or a manufacturer tag, and rebuilding them needs it.

    0x0003 and 0xFFFF are produced by the ``integrity`` and ``align`` settings; the Smart Energy
    signature suites need a Certicom ECQV signer on binary Koblitz curves, which
    ``cryptography`` no longer has, so such a tag could only ever be a forgery-shaped
    placeholder.
    """
    seen: set[int] = set()
    for tag in tags:
        value = f"0x{tag:04X}"
        if not 0 <= tag <= 0xFFFF:
            raise InputError("tag id must be between 0x0000 and 0xFFFF", field="tags", value=value)
        if tag in seen and not allow_duplicate:
            raise InputError(
                "tag id given more than once; each tag may appear once",
                field="tags",
                value=value,
                hint=Hint("allow_duplicate_tag", f" ({OPTION} if a device really expects it repeated)"),
            )
        seen.add(tag)
        if tag == IMAGE_INTEGRITY_CODE:
            raise InputError(
                "tag 0x0003 is the image integrity code",
                field="tags",
                value=value,
                hint=Hint("integrity", f"; use {OPTION} to have it computed"),
            )
        if tag == PADDING:
            raise InputError(
                "tag 0xFFFF is the alignment padding element",
                field="tags",
                value=value,
                hint=Hint("align", f"; use {OPTION} to insert it"),
            )
        if tag in SIGNATURE_TAGS:
            raise InputError(
                f"tag {value} is a Smart Energy {TAG_NAMES[tag]}; those need a Certicom "
                "ECQV signer on a binary Koblitz curve, which ota-action does not provide",
                field="tags",
                value=value,
            )
        if is_reserved(tag) and not allow_reserved:
            raise InputError(
                "tag id is in the reserved range 0x0007-0xEFFF; use 0xF000-0xFFFE for manufacturer data",
                field="tags",
                value=value,
                hint=Hint("allow_reserved_tag", f", or {OPTION} if a device really expects it"),
            )
