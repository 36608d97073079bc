"""Where everything sits in an OTA file, read from a seekable file object in bounded memory.

``rewrap``, ``extract`` and ``index`` need the header and the sub-element positions, not
the data: this reader seeks from one 6-byte tag header to the next, so a file of any size
costs one header read plus six bytes per element.  It follows the same rules as
:func:`ota_action.zigbee.image.parse_image` (walk bounded by the total image size, bytes
after it reported, never absorbed).

It also holds the one small rule the writers here need beyond ``integrity.py``: the
integrity code of an image in a *given* variant (:func:`variant_digest`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from ota_action.errors import FormatError
from ota_action.zigbee.elements import IMAGE_INTEGRITY_CODE, TAG_HEADER_SIZE, ElementRef
from ota_action.zigbee.header import OtaHeader, decode_header
from ota_action.zigbee.integrity import DIGEST_SIZE, IntegrityVariant, aes_mmo, integrity_ranges

CHUNK = 1 << 20
MAX_HEADER = 0xFFFF  # header_length is a u16, so the header is never longer than this


@dataclass(frozen=True)
class Layout:
    """Header, element positions and what does not fit the plain layout."""

    header: OtaHeader
    file_size: int
    elements: tuple[ElementRef, ...]
    problem: str | None

    @property
    def image_end(self) -> int:
        return min(self.header.total_image_size, self.file_size)

    @property
    def trailing_bytes(self) -> int:
        return max(0, self.file_size - self.header.total_image_size)

    @property
    def integrity_elements(self) -> tuple[ElementRef, ...]:
        return tuple(e for e in self.elements if e.tag == IMAGE_INTEGRITY_CODE)


def read_exact(src: BinaryIO, offset: int, length: int) -> bytes:
    """``length`` bytes at ``offset``; a short read (a file that shrank) is a FormatError."""
    src.seek(offset)
    data = src.read(length)
    if len(data) != length:
        raise FormatError(f"file ended at offset {offset + len(data)}, expected {length} bytes at {offset}")
    return data


def iter_range(src: BinaryIO, start: int, stop: int, chunk: int = CHUNK) -> Iterator[bytes]:
    """The bytes ``[start, stop)`` in chunks of at most ``chunk`` bytes."""
    offset = start
    while offset < stop:
        piece = read_exact(src, offset, min(chunk, stop - offset))
        offset += len(piece)
        yield piece


def read_layout(src: BinaryIO, size: int) -> Layout:
    """Decode the header and walk the sub-elements of the ``size``-byte file ``src``.

    Only a missing or wrong header raises (FormatError); every other departure from the
    plain layout is described in ``problem`` with the elements found up to it, in the
    words of :func:`ota_action.zigbee.elements.walk` (a test holds the two together).
    """
    head = read_exact(src, 0, min(size, MAX_HEADER))
    header = decode_header(head)
    total = header.total_image_size
    if total < header.header_length:
        return Layout(
            header,
            size,
            (),
            f"total image size {total} is smaller than the header length {header.header_length}",
        )
    stop = min(total, size)
    found: list[ElementRef] = []
    offset = header.header_length
    problem: str | None = None
    while offset < stop:
        if offset + TAG_HEADER_SIZE > stop:
            problem = f"{stop - offset} stray bytes at offset {offset}, too few for a 6-byte tag header"
            break
        tag_header = read_exact(src, offset, TAG_HEADER_SIZE)
        ref = ElementRef(
            int.from_bytes(tag_header[:2], "little"), int.from_bytes(tag_header[2:], "little"), offset
        )
        if ref.end > stop:
            problem = (
                f"sub-element 0x{ref.tag:04X} at offset {offset} claims {ref.length} bytes and runs "
                f"{ref.end - stop} bytes past the total image size {stop}"
            )
            break
        found.append(ref)
        offset = ref.end
    if total > size:  # the file was cut short: say so (as parse_file does), not where the walk broke
        problem = f"total image size {total} is beyond the end of the {size}-byte file"
    return Layout(header, size, tuple(found), problem)


def variant_digest(covered: bytes | memoryview, element_offset: int, variant: IntegrityVariant) -> bytes:
    """The integrity code an image gets in ``variant``, from the bytes the variant covers.

    ``covered`` starts at the file's first byte and holds at least the range of the
    variant (``element_offset`` or ``element_offset + 6`` bytes).  The range and padding
    come from :func:`integrity_ranges`, so writer and verifier share one rule.
    """
    for candidate, end, short_only in integrity_ranges(element_offset):
        if candidate is variant:
            if len(covered) < end:
                raise ValueError(f"variant {variant.value} covers {end} bytes, got {len(covered)}")
            return aes_mmo(memoryview(covered)[:end], short_form_only=short_only)
    raise ValueError(f"unknown integrity variant {variant!r}")  # pragma: no cover - enum is closed


def covered_length(element_offset: int, variant: IntegrityVariant) -> int:
    """How many bytes from the start of the file ``variant`` hashes."""
    for candidate, end, _ in integrity_ranges(element_offset):
        if candidate is variant:
            return end
    raise ValueError(f"unknown integrity variant {variant!r}")  # pragma: no cover


__all__ = [
    "CHUNK",
    "DIGEST_SIZE",
    "Layout",
    "covered_length",
    "iter_range",
    "read_exact",
    "read_layout",
    "variant_digest",
]
