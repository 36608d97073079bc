"""Reading a whole OTA file, streaming: :func:`parse_file` and what it finds (:class:`ParsedImage`).

The header comes from the first 64 KiB, the sub-element walk is done by seeks (bounded
memory, see :class:`~ota_action.formats.zigbee.elements.Walk`), then one sequential pass
in chunks gives the SHA-256 and every integrity variant.  Any file is read, ours or a
vendor's, without trusting it: the walk is bounded by the total image size, and bytes
after it are reported, never absorbed.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, BinaryIO, NamedTuple

from ota_action.formats.zigbee.elements import ELEMENTS_LISTED, IMAGE_INTEGRITY_CODE, ElementRef, walk_file
from ota_action.formats.zigbee.header import OtaHeader, decode_header
from ota_action.formats.zigbee.integrity import (
    DIGEST_SIZE,
    IntegrityVariant,
    integrity_digests,
    match_digests,
)
from ota_action.formats.zigbee.streams import chunks
from ota_action.records import field, record

if TYPE_CHECKING:
    from ota_action.formats.zigbee.aes import Backend

HEADER_READ = 1 << 16  # the header length is a u16, so the header always fits in this


class IntegrityResult(NamedTuple):
    present: bool
    valid: bool | None
    variant: IntegrityVariant | None
    stored: bytes | None = None
    offset: int | None = None


@record
class ParsedImage:
    """Everything a reader can say about a file; no field raises when accessed.

    ``elements`` lists at most the first :data:`ELEMENTS_LISTED` sub-elements;
    ``elements_total``, ``tag_counts``, ``first_of`` (each tag's first element) and
    ``last_element`` describe all of them.
    """

    header: OtaHeader
    file_size: int
    elements: tuple[ElementRef, ...]
    walk_problem: str | None
    integrity: IntegrityResult
    elements_total: int = 0
    tag_counts: dict[int, int] = field(default_factory=dict)
    first_of: dict[int, ElementRef] = field(default_factory=dict)
    last_element: ElementRef | None = None
    sha256: str | None = None

    @classmethod
    def from_refs(
        cls,
        header: OtaHeader,
        file_size: int,
        refs: Sequence[ElementRef],
        *,
        integrity: IntegrityResult,
        walk_problem: str | None = None,
        sha256: str | None = None,
    ) -> ParsedImage:
        counts: dict[int, int] = {}
        first: dict[int, ElementRef] = {}
        for ref in refs:
            counts[ref.tag] = counts.get(ref.tag, 0) + 1
            first.setdefault(ref.tag, ref)
        return cls(
            header,
            file_size,
            tuple(refs[:ELEMENTS_LISTED]),
            walk_problem,
            integrity,
            len(refs),
            counts,
            first,
            refs[-1] if refs else None,
            sha256,
        )

    @property
    def image_end(self) -> int:
        return min(self.header.total_image_size, self.file_size)

    @property
    def trailing_bytes(self) -> int:
        return max(0, self.file_size - self.header.total_image_size)

    def element_data(self, data: bytes | memoryview, ref: ElementRef) -> bytes:
        return bytes(memoryview(data)[ref.data_offset : ref.end])


def parse_file(f: BinaryIO, size: int, *, backend: Backend) -> ParsedImage:
    """Decode the seekable binary file ``f`` of ``size`` bytes as an OTA file.

    ``backend`` checks the integrity code: the command passes the one its settings chose
    (``OTA_AES_BACKEND``), so the core never picks one behind its back.

    Only a missing or wrong header raises (FormatError), after reading at most 64 KiB.
    Then sub-elements are walked by seeks and the file is read once, in chunks, for its
    SHA-256 and the integrity variants.  ``f`` is not closed.
    """
    f.seek(0)
    header = decode_header(f.read(min(size, HEADER_READ)))
    stop = min(header.total_image_size, size)
    if header.total_image_size < header.header_length:
        found = walk_file(f, header.header_length, header.header_length)
        problem: str | None = (
            f"total image size {header.total_image_size} is smaller than the header length "
            f"{header.header_length}"
        )
    else:
        found = walk_file(f, header.header_length, stop)
        problem = found.problem
        if header.total_image_size > size:
            # What happened (the file was cut short) wins over where the walk then broke,
            # whose message would call the file's length the total image size.
            problem = f"total image size {header.total_image_size} is beyond the end of the {size}-byte file"
    sha = hashlib.sha256()

    def hashed(pieces: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in pieces:
            sha.update(chunk)
            yield chunk

    integrity = IntegrityResult(present=False, valid=None, variant=None)
    ref = found.first.get(IMAGE_INTEGRITY_CODE)
    stored = b""
    if ref is not None:
        f.seek(ref.data_offset)
        stored = f.read(min(ref.length, DIGEST_SIZE + 1))
    stream = hashed(chunks(f, 0, size))
    if ref is not None:
        if ref.length != DIGEST_SIZE:
            integrity = IntegrityResult(True, False, None, stored[:DIGEST_SIZE], ref.offset)
        else:
            digests = integrity_digests(stream, ref.offset, backend=backend)
            variant = match_digests(digests, stored)
            integrity = IntegrityResult(True, variant is not None, variant, stored, ref.offset)
    for _ in stream:  # the rest of the file (integrity_digests stops at its range), for the SHA-256
        pass
    return ParsedImage(
        header=header,
        file_size=size,
        elements=found.elements,
        walk_problem=problem,
        integrity=integrity,
        elements_total=found.total,
        tag_counts=found.counts,
        first_of=found.first,
        last_element=found.last,
        sha256=sha.hexdigest(),
    )


def parse_image(data: bytes | memoryview, *, backend: Backend | None = None) -> ParsedImage:
    """:func:`parse_file` for bytes already in memory (tests, small inputs); with no
    ``backend`` the fastest is used."""
    from ota_action.formats.zigbee import aes  # the backends: when a hash is computed

    return parse_file(io.BytesIO(data), len(data), backend=backend or aes.get())


__all__ = ["HEADER_READ", "IntegrityResult", "ParsedImage", "parse_file", "parse_image"]
