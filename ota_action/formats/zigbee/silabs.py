"""Silicon Labs GBL and EBL images, walked tag by tag with their CRC-32 checked.

The bootloader's rule: zlib's CRC-32 of every byte from the start of the image up to and
including the end tag's id and length must equal the end tag's 4-byte value, read
little-endian (equivalently, the CRC over the whole image including that value is the
residue 0x2144DF1C, zigpy's test).  Bytes after the end tag (EBL's 0xFF padding to 64
bytes, Hue's GBL padding) are counted, not judged: the bootloader stops at the end tag.

The walk consumes the image once, in chunks of at most 1 MiB; at most
:data:`MAX_LISTED_TAGS` tags are listed, the rest are counted.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from typing import Any, BinaryIO

from ota_action.formats.zigbee.payload_types import Payload, PayloadFormat, hex32
from ota_action.formats.zigbee.silabs_header import EBL_ENCRYPTED_HEADER_TAG, MAX_LISTED_TAGS
from ota_action.formats.zigbee.streams import CHUNK, read_at
from ota_action.records import record, replace

_BUFFER = 1 << 16

GBL_END_TAG = 0xFC0404FC
EBL_END_TAG = 0xFC04
CRC_SIZE = 4
GBL_TYPE_ENCRYPTED = 0x00000001
GBL_TYPE_SIGNED = 0x00000100
# Program-data tags (plain and delta) by the algorithm that compressed them.
GBL_COMPRESSED = {0xFD0505FD: "lz4", 0xF80B0BF8: "lz4", 0xFD0707FD: "lzma", 0xF80C0CF8: "lzma"}


@record
class SilabsTag:
    """One GBL/EBL tag header: its id (``width`` hex digits), offset in the image, length."""

    tag: int
    offset: int
    length: int
    width: int

    def to_json(self) -> dict[str, Any]:
        return {"tag": f"0x{self.tag:0{self.width}X}", "offset": self.offset, "length": self.length}


@record
class SilabsPayload(Payload):
    """A Silicon Labs GBL or EBL image walked tag by tag, its CRC-32 checked.

    ``version``/``type`` come from a GBL header tag, ``encrypted`` from an EBL's first
    tag; a GBL header's ``type`` flags say whether it is encrypted (0x1) or signed
    (0x100), which :meth:`features` words for people; ``compression`` names the algorithm
    of a compressed program-data tag, when there is one.  The CRC fields and
    ``bytes_after_end`` are set once the end tag was reached.
    """

    tags: tuple[SilabsTag, ...] = ()
    tag_count: int = 0
    version: int | None = None
    type: int | None = None
    encrypted: bool | None = None
    compression: str | None = None
    crc32_stored: int | None = None
    crc32_computed: int | None = None
    bytes_after_end: int | None = None
    padding_is_ff: bool | None = None

    @property
    def valid(self) -> bool:
        return self.problem is None

    def _details(self) -> list[tuple[str, Any]]:
        return [
            ("version", None if self.version is None else hex32(self.version)),
            ("type", self.type),
            ("encrypted", self.encrypted),
            ("compression", self.compression),
            ("crc32_stored", None if self.crc32_stored is None else hex32(self.crc32_stored)),
            ("crc32_computed", None if self.crc32_computed is None else hex32(self.crc32_computed)),
            ("bytes_after_end", self.bytes_after_end),
            ("padding_is_ff", self.padding_is_ff),
            ("tag_count", self.tag_count),
            ("tags", [t.to_json() for t in self.tags]),
        ]

    @property
    def features(self) -> list[str]:
        """``signed``, ``encrypted``, ``lzma-compressed``: what a summary line says of it."""
        flags = self.type or 0
        out = ["signed"] if flags & GBL_TYPE_SIGNED else []
        if flags & GBL_TYPE_ENCRYPTED or self.encrypted:
            out.append("encrypted")
        if self.compression:
            out.append(f"{self.compression}-compressed")
        return out

    def finding_code(self) -> str:
        crc_differs = self.crc32_stored is not None and self.crc32_stored != self.crc32_computed
        return "payload-crc" if crc_differs else "payload-structure"

    def notes(self) -> list[str]:
        return self.features

    @property
    def signed_as(self) -> str | None:
        return "GBL" if self.format is PayloadFormat.GBL else None


class _Reader:
    """Consumes ``[start, stop)`` of a file once, front to back, feeding every byte to a CRC-32.

    Small reads (tag headers) come from a buffer of at most 64 KiB plus the request, read
    from at a position: taking or skipping inside the buffer copies nothing and computes
    nothing, and the CRC-32 runs over the consumed part of the buffer in one call when
    the buffer is refilled or :attr:`crc` is read.  (An EBL's tags are ~128 bytes: a CRC
    call and a copy of the rest of the buffer per tag made the walk a third of a batch's
    work beside AES-MMO.)  Large skips stream in chunks of at most 1 MiB.
    ``position`` is relative to ``start``.
    """

    __slots__ = ("_buf", "_crc", "_crc_from", "_f", "_next", "_pos", "_start", "_stop", "position")

    def __init__(self, f: BinaryIO, start: int, stop: int) -> None:
        self._f = f
        self._start = start
        self._next = start  # next file offset not yet in the buffer
        self._stop = stop
        self._buf = b""
        self._pos = 0  # where the unread part of the buffer starts
        self._crc = 0  # the CRC-32 of every byte consumed before _buf[_crc_from]
        self._crc_from = 0
        self.position = 0

    @property
    def remaining(self) -> int:
        return self._stop - self._start - self.position

    @property
    def crc(self) -> int:
        """The CRC-32 of every byte consumed so far."""
        self._settle()
        return self._crc

    def _settle(self) -> None:
        """Fold the consumed, not yet counted part of the buffer into the CRC."""
        if self._crc_from < self._pos:
            self._crc = zlib.crc32(memoryview(self._buf)[self._crc_from : self._pos], self._crc)
            self._crc_from = self._pos

    def _fill(self, n: int) -> None:
        """Read until the buffer holds ``n`` unread bytes (or the range or file ends)."""
        self._settle()
        buf = self._buf[self._pos :]
        while len(buf) < n and self._next < self._stop:
            piece = read_at(self._f, self._next, min(_BUFFER, self._stop - self._next))
            if not piece:
                self._stop = self._next  # the file is shorter than the range
                break
            buf += piece
            self._next += len(piece)
        self._buf, self._pos, self._crc_from = buf, 0, 0

    def take(self, n: int) -> bytes:
        """Up to ``n`` bytes (fewer only at the end of the range or the file)."""
        if len(self._buf) - self._pos < n:
            self._fill(n)
        pos = self._pos
        data = self._buf[pos : pos + n]
        self._pos = pos + len(data)
        self.position += len(data)
        return data

    def skip(self, n: int, sink: Callable[[bytes], None] | None = None) -> int:
        """Consume ``n`` bytes without keeping them (``sink`` sees them); returns how many."""
        done = min(n, len(self._buf) - self._pos)
        if done:
            if sink is not None:
                sink(self._buf[self._pos : self._pos + done])
            self._pos += done
            self.position += done
        if done < n:
            self._settle()
        while done < n and self._next < self._stop:
            piece = read_at(self._f, self._next, min(CHUNK, n - done, self._stop - self._next))
            if not piece:
                self._stop = self._next
                break
            self._next += len(piece)
            self._consumed(piece)
            if sink is not None:
                sink(piece)
            done += len(piece)
        return done

    def all_bytes_are(self, value: int) -> bool:
        """Consume the rest of the range; True when every byte of it equals ``value``."""
        others = [0]

        def count(piece: bytes) -> None:
            others[0] += len(piece) - piece.count(value)

        self.skip(self.remaining, count)
        return others[0] == 0

    def _consumed(self, data: bytes) -> None:
        """Count bytes read past the buffer (the buffer's part is settled first)."""
        self.position += len(data)
        self._crc = zlib.crc32(data, self._crc)


@record
class _Scheme:
    name: str
    format: PayloadFormat
    header: struct.Struct
    end_tag: int
    width: int  # hex digits of a tag id


_GBL = _Scheme("GBL", PayloadFormat.GBL, struct.Struct("<II"), GBL_END_TAG, 8)
_EBL = _Scheme("EBL", PayloadFormat.EBL, struct.Struct(">HH"), EBL_END_TAG, 4)


def walk_silabs(f: BinaryIO, offset: int, length: int, *, gbl: bool) -> SilabsPayload:
    """Walk the GBL (``gbl``) or EBL image in ``[offset, offset + length)`` of ``f``."""
    scheme = _GBL if gbl else _EBL
    reader = _Reader(f, offset, offset + length)
    tags: list[SilabsTag] = []
    found = SilabsPayload(scheme.format, offset, length)

    def result(problem: str | None = None, **fields: Any) -> SilabsPayload:
        return replace(found, problem=problem, tags=tuple(tags), **fields)

    size = scheme.header.size
    count = 0
    while True:
        at = reader.position
        raw = reader.take(size)
        if len(raw) < size:
            if not raw:
                return result(
                    f"{scheme.name} image ends at offset {at} without the end tag "
                    f"0x{scheme.end_tag:0{scheme.width}X}",
                    tag_count=count,
                )
            return result(
                f"{scheme.name} image is truncated: {len(raw)} bytes at offset {at} are too few "
                f"for a {size}-byte tag header",
                tag_count=count,
            )
        tag, tag_length = scheme.header.unpack(raw)
        count += 1
        if gbl and tag in GBL_COMPRESSED and found.compression is None:
            found = replace(found, compression=GBL_COMPRESSED[tag])
        if len(tags) < MAX_LISTED_TAGS:
            tags.append(SilabsTag(tag, at, tag_length, scheme.width))
        if tag_length > reader.remaining:
            return result(
                f"{_tag_name(scheme, tag, at)} claims {tag_length} bytes but only {reader.remaining} "
                f"remain in the {length}-byte upgrade image",
                tag_count=count,
            )
        if tag == scheme.end_tag:
            name = _tag_name(scheme, tag, at)
            return _end(reader, scheme=scheme, name=name, tag_length=tag_length, result=result, count=count)
        if count == 1:
            value = reader.take(min(tag_length, 8))
            found = _first_tag(found, gbl=gbl, tag=tag, value=value)
            reader.skip(tag_length - len(value))
        else:
            reader.skip(tag_length)


def _tag_name(scheme: _Scheme, tag: int, at: int) -> str:
    """How a message names a tag (made only for a message: a walk meets thousands)."""
    return f"{scheme.name} tag 0x{tag:0{scheme.width}X} at offset {at}"


def _end(
    reader: _Reader,
    *,
    scheme: _Scheme,
    name: str,
    tag_length: int,
    result: Callable[..., SilabsPayload],
    count: int,
) -> SilabsPayload:
    if tag_length != CRC_SIZE:
        return result(f"{name} (the end tag) has length {tag_length}, expected {CRC_SIZE}", tag_count=count)
    computed = reader.crc
    stored = int.from_bytes(reader.take(CRC_SIZE), "little")
    after = reader.remaining
    padding = None if scheme is _GBL else reader.all_bytes_are(0xFF)
    problem = None
    if stored != computed:
        problem = (
            f"{scheme.name} CRC-32 does not match: the end tag holds 0x{stored:08X}, "
            f"the image computes to 0x{computed:08X}"
        )
    return result(
        problem,
        tag_count=count,
        crc32_stored=stored,
        crc32_computed=computed,
        bytes_after_end=after,
        padding_is_ff=padding,
    )


def _first_tag(found: SilabsPayload, *, gbl: bool, tag: int, value: bytes) -> SilabsPayload:
    if not gbl:
        return replace(found, encrypted=tag == EBL_ENCRYPTED_HEADER_TAG)
    if len(value) < 8:
        return found
    return replace(
        found, version=int.from_bytes(value[:4], "little"), type=int.from_bytes(value[4:8], "little")
    )


def read_silabs(kind: PayloadFormat, f: BinaryIO, _head: bytes, offset: int, length: int) -> Payload:
    """The GBL or EBL (``kind``) at ``[offset, offset + length)``, walked: the payload reader."""
    return walk_silabs(f, offset, length, gbl=kind is PayloadFormat.GBL)
