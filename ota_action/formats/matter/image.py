"""Build and read Matter OTA images, streaming: the payload is never held whole.

Building takes two passes over the payload stream: the first computes its digest (the
header, which precedes the payload, holds it), the second copies it behind the header
and computes the digest again, so a payload that changed between the passes is refused
rather than written under a digest that does not match.  Reading takes the fixed prefix
and the header (sizes checked before each read), then one chunked pass hashes the
payload with the header's digest type and the whole file with SHA-256.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any, BinaryIO, Protocol

from ota_action.errors import FormatError, InputError
from ota_action.formats.matter.header import (
    FILE_IDENTIFIER,
    MAX_HEADER_SIZE,
    PREFIX,
    PREFIX_SIZE,
    DigestType,
    MatterHeader,
    encode_prefix,
)
from ota_action.records import record, replace

CHUNK = 1 << 20  # bytes per read (1 MiB)
MAX_TOTAL = (1 << 64) - 1


def _pieces(f: BinaryIO, start: int, length: int) -> Iterator[bytes]:
    """The bytes of ``[start, start + length)`` in pieces of at most :data:`CHUNK`; stops at EOF."""
    f.seek(start)
    left = length
    while left > 0:
        piece = f.read(min(CHUNK, left))
        if not piece:
            return
        left -= len(piece)
        yield piece


class PayloadSource(Protocol):
    """A payload whose length is known before any byte is read, readable more than once
    (a Zigbee tag source, such as a converted Intel HEX file, is one)."""

    @property
    def length(self) -> int: ...

    def chunks(self) -> Iterator[bytes | bytearray | memoryview]: ...


@record
class StreamWindow:
    """``length`` bytes of an open stream from ``offset``: a payload file (``whole``: it
    must hold exactly that many) or the payload of an image being rewrapped."""

    stream: BinaryIO
    offset: int
    length: int
    whole: bool = True

    def chunks(self) -> Iterator[bytes]:
        seen = 0
        for piece in _pieces(self.stream, self.offset, self.length):
            seen += len(piece)
            yield piece
        if seen != self.length:
            raise InputError(f"changed while being read: {seen} bytes instead of {self.length}")
        if self.whole and self.stream.read(1):
            raise InputError(f"grew while being read (more than {self.length} bytes)")


def payload_digest(payload: PayloadSource, digest_type: DigestType) -> bytes:
    """The digest of every byte of ``payload``."""
    hasher = digest_type.hasher()
    for piece in payload.chunks():
        hasher.update(piece)
    return digest_type.finish(hasher)


@record
class WrittenImage:
    """What :func:`write_image` wrote: the final header and digests of the whole file."""

    header: MatterHeader
    header_size: int
    size: int
    sha256: str
    sha512: str
    sha3_256: str


def plan_header(header: MatterHeader, digest_type: DigestType) -> MatterHeader:
    """``header`` with a placeholder digest of the right length, checked to encode."""
    planned = replace(header, digest_type=int(digest_type), digest=bytes(digest_type.digest_size))
    size = len(planned.encode())
    if PREFIX_SIZE + size + planned.payload_size > MAX_TOTAL:
        raise InputError("makes an image larger than the 64-bit total size holds")
    return planned


def write_image(out: BinaryIO, header: MatterHeader, payload: PayloadSource) -> WrittenImage:
    """Write prefix, ``header`` (with the payload's digest) and the payload to ``out``.

    ``header.payload_size`` is ``payload.length``; a payload whose bytes differ between
    the digest pass and the copy raises :class:`InputError`.
    """
    digest_type = DigestType(header.digest_type)
    digest = payload_digest(payload, digest_type)
    final = header.with_digest(digest)
    tlv = final.encode()
    head = encode_prefix(len(tlv), final.payload_size) + tlv
    whole = (hashlib.sha256(), hashlib.sha512(), hashlib.sha3_256())
    again = digest_type.hasher()
    out.write(head)
    for h in whole:
        h.update(head)
    copied = 0
    for piece in payload.chunks():
        out.write(piece)
        again.update(piece)
        for h in whole:
            h.update(piece)
        copied += len(piece)
    if copied != final.payload_size or digest_type.finish(again) != digest:
        raise InputError("changed while being read (its digest differs between two passes)")
    return WrittenImage(
        final, len(tlv), len(head) + copied, whole[0].hexdigest(), whole[1].hexdigest(), whole[2].hexdigest()
    )


@record
class ParsedMatter:
    """A Matter OTA image as read: the prefix, the header, and what the pass computed.

    ``computed_digest`` is None when the digest type is unknown; ``payload_read`` counts
    the payload bytes the file really holds (fewer than the header says when truncated).
    """

    total_size: int
    header_size: int
    header: MatterHeader
    file_size: int
    computed_digest: bytes | None
    payload_read: int
    sha256: str
    header_used: int  # bytes of the header the TLV structure takes (the rest is slack)

    @property
    def payload_offset(self) -> int:
        return PREFIX_SIZE + self.header_size

    @property
    def expected_total(self) -> int:
        return self.payload_offset + self.header.payload_size


def read_prefix(f: BinaryIO, size: int) -> tuple[int, int]:
    """(total size, header size) from the fixed prefix; FormatError when it is not one."""
    if size < PREFIX_SIZE:
        raise FormatError(f"is {size} bytes, shorter than the {PREFIX_SIZE}-byte Matter OTA prefix")
    f.seek(0)
    identifier, total, header_size = PREFIX.unpack(f.read(PREFIX_SIZE))
    if identifier != FILE_IDENTIFIER:
        raise FormatError(f"does not start with the Matter OTA file identifier 0x{FILE_IDENTIFIER:08X}")
    if header_size > MAX_HEADER_SIZE:
        raise FormatError(
            f"header size {header_size} is larger than any Matter OTA header ({MAX_HEADER_SIZE})"
        )
    if header_size > size - PREFIX_SIZE:
        raise FormatError(f"header size {header_size} runs past the end of the {size}-byte file")
    return total, header_size


def parse_image(f: BinaryIO, size: int) -> ParsedMatter:
    """Read the image in ``f`` (``size`` bytes, from ``stat``): header, digest, SHA-256."""
    total, header_size = read_prefix(f, size)
    header, used = MatterHeader.decode_prefix(f.read(header_size))
    start = PREFIX_SIZE + header_size
    kind = header.digest_kind
    hasher: Any = kind.hasher() if kind is not None else None
    whole = hashlib.sha256()
    for piece in _pieces(f, 0, start):
        whole.update(piece)
    read = 0
    for piece in _pieces(f, start, size - start):
        take = max(0, min(len(piece), header.payload_size - read))
        if hasher is not None and take:
            hasher.update(piece[:take] if take < len(piece) else piece)
        read += len(piece)
        whole.update(piece)
    payload_read = min(read, header.payload_size)
    computed = kind.finish(hasher) if kind is not None else None
    return ParsedMatter(total, header_size, header, size, computed, payload_read, whole.hexdigest(), used)
