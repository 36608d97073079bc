"""Build and parse whole OTA upgrade files, streaming: sizes first, bytes later.

Writing is two steps.  :func:`plan_image` lays the file out from the header and each
element's *length* alone (from ``stat``, a tag spec, or a parsed .hex), and refuses
what the format cannot hold before a byte is read: the total image size is a u32, and
AES-MMO's long form ends at 2^29 bytes.  :func:`write_image` then streams the header,
tag headers and each source's chunks to a binary file, computing the integrity code
(rule A: AES-MMO over every byte before the 0x0003 element, whose total image size
already counts it) and the SHA-256 as the bytes go out, and returns a
:class:`BuiltImage` that describes what was written, so nothing is parsed back.

The layout ota-action promises: sub-elements in the order given, an optional 0xFFFF
padding element so the first upgrade image's data starts on an ``align`` boundary, and
the integrity code last.

Reading is :func:`parse_file`: the header from the first 64 KiB, the sub-element walk
by seeks (bounded memory, see :class:`~ota_action.formats.zigbee.elements.Walk`), then one
sequential pass in chunks for the SHA-256 and every integrity variant.  It reads any
file, ours or a vendor's, without trusting it: the walk is bounded by the total image
size, bytes after it are reported, never absorbed.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from ota_action.errors import InputError
from ota_action.formats.zigbee.aes import Backend
from ota_action.formats.zigbee.elements import (
    ELEMENTS_LISTED,
    IMAGE_INTEGRITY_CODE,
    PADDING,
    TAG_HEADER_SIZE,
    UPGRADE_IMAGE,
    ElementRef,
    SubElement,
    encode_tag_header,
    walk_file,
)
from ota_action.formats.zigbee.header import OtaHeader, decode_header, encode_header
from ota_action.formats.zigbee.integrity import (
    DIGEST_SIZE,
    MAX_INPUT,
    IntegrityVariant,
    MmoHasher,
    integrity_digests,
    integrity_ranges,
    match_digests,
)
from ota_action.formats.zigbee.streams import CHUNK, chunks

INTEGRITY_ELEMENT_SIZE = TAG_HEADER_SIZE + DIGEST_SIZE
MAX_TOTAL_SIZE = 0xFFFFFFFF
CRC_TRAILER_SIZE = 4  # Salus' CRC-32 after the image
HEADER_READ = 1 << 16  # the header length is a u16, so the header always fits in this


# --- sources ----------------------------------------------------------------------------


class Source(Protocol):
    """The data of one sub-element: its length is known before any byte is produced."""

    @property
    def length(self) -> int: ...

    def chunks(self) -> Iterator[bytes | bytearray | memoryview]: ...


@dataclass(frozen=True)
class BytesSource:
    data: bytes

    @property
    def length(self) -> int:
        return len(self.data)

    def chunks(self) -> Iterator[bytes]:
        yield self.data


@dataclass(frozen=True)
class FillSource:
    """``length`` copies of ``fill``, generated a chunk at a time (a NULL tag, padding)."""

    length: int
    fill: int = 0xFF

    def chunks(self) -> Iterator[bytes]:
        block = bytes([self.fill]) * min(self.length, CHUNK)
        left = self.length
        while left > 0:
            yield block if left >= len(block) else block[:left]
            left -= len(block)


@dataclass(frozen=True)
class FileSource:
    """A file's bytes; ``length`` is what ``stat`` said, and exactly that many are produced.

    A file that shrinks or grows between planning and writing is an InputError naming
    ``field`` (the header's total size was already written from ``length``).
    """

    path: Path
    length: int
    field: str = "tags"
    # How to open it: the edge passes its checked opener (regular files only, inside the
    # workspace in the Action); the core itself only knows plain ``open``.
    opener: Callable[[Path], BinaryIO] | None = None

    def _open(self) -> BinaryIO:
        return self.opener(self.path) if self.opener is not None else open(self.path, "rb")

    def chunks(self) -> Iterator[bytes]:
        left = self.length
        try:
            with self._open() as f:
                while left > 0:
                    chunk = f.read(min(CHUNK, left))
                    if not chunk:
                        break
                    left -= len(chunk)
                    yield chunk
                grew = left == 0 and bool(f.read(1))
        except OSError as exc:
            raise InputError(
                f"cannot be read: {exc.strerror}", field=self.field, value=str(self.path)
            ) from None
        if left or grew:
            raise InputError(
                f"changed size while being read (it was {self.length} bytes)",
                field=self.field,
                value=str(self.path),
            )


@dataclass(frozen=True)
class ConcatSource:
    """Several sources as one element's data (an XBee image, its padding, its signature)."""

    parts: tuple[Source, ...]

    @property
    def length(self) -> int:
        return sum(p.length for p in self.parts)

    def chunks(self) -> Iterator[bytes | bytearray | memoryview]:
        for part in self.parts:
            yield from part.chunks()


# --- planning and writing -------------------------------------------------------------


@dataclass(frozen=True)
class PlannedElement:
    tag: int
    source: Source
    offset: int  # of the tag id

    @property
    def ref(self) -> ElementRef:
        return ElementRef(self.tag, self.source.length, self.offset)


@dataclass(frozen=True)
class ImagePlan:
    """Where every byte of the file will go; ``header`` already carries the total size."""

    header: OtaHeader
    elements: tuple[PlannedElement, ...]
    integrity: bool
    total_size: int
    variant: IntegrityVariant = IntegrityVariant.STANDARD

    @property
    def integrity_offset(self) -> int | None:
        return self.total_size - INTEGRITY_ELEMENT_SIZE if self.integrity else None


def padding_length(data_start: int, align: int) -> int | None:
    """Data length of the 0xFFFF element that moves ``data_start`` onto a multiple of ``align``.

    ``data_start`` is where the upgrade image's data would begin without padding.  None
    means no padding element is needed; otherwise the element (6-byte header plus the
    returned length) is the smallest that lands the data on the boundary.
    """
    if align < 1:
        raise ValueError("align must be positive")
    if data_start % align == 0:
        return None
    return (-(data_start + TAG_HEADER_SIZE)) % align


def plan_image(
    header: OtaHeader,
    sources: Sequence[tuple[int, Source]],
    *,
    integrity: bool = False,
    align: int | None = None,
    fill: int = 0xFF,
    field: str = "tags",
    variant: IntegrityVariant = IntegrityVariant.STANDARD,
) -> ImagePlan:
    """Lay out a file from a header made by :meth:`OtaHeader.create` and (tag, source) pairs.

    Only lengths are used.  Refusals name ``field`` (the option holding the data) or
    ``integrity``/``align``, and state the limit.  ``variant`` chooses which bytes the
    integrity code covers (:func:`~ota_action.formats.zigbee.integrity.integrity_ranges`): only
    files for devices that expect a non-standard one should use another.
    """
    parts = list(sources)
    if align is not None:
        firsts = [i for i, (tag, _) in enumerate(parts) if tag == UPGRADE_IMAGE]
        if not firsts:
            raise InputError(
                "needs an upgrade image (tag 0x0000) whose data it can align",
                field="align",
                value=str(align),
            )
        index = firsts[0]
        before = header.header_length + sum(TAG_HEADER_SIZE + s.length for _, s in parts[:index])
        pad = padding_length(before + TAG_HEADER_SIZE, align)
        if pad is not None:
            parts.insert(index, (PADDING, FillSource(pad, fill)))
    planned: list[PlannedElement] = []
    offset = header.header_length
    for tag, source in parts:
        planned.append(PlannedElement(tag, source, offset))
        offset += TAG_HEADER_SIZE + source.length
    total = offset + (INTEGRITY_ELEMENT_SIZE if integrity else 0)
    if total > MAX_TOTAL_SIZE:
        raise InputError(
            f"the file would be {total} bytes; the OTA header's total image size is a u32 "
            f"and holds at most {MAX_TOTAL_SIZE} bytes",
            field=field,
        )
    end, short_only = variant_range(variant, offset)
    if integrity and end >= MAX_INPUT and not short_only:
        raise InputError(
            f"the integrity code would cover {end} bytes; AES-MMO (Zigbee Annex B.6) stores "
            f"the length in 32 bits and ends below {MAX_INPUT} bytes (512 MiB), so no standard "
            "code exists for a file this large: leave out --integrity",
            field="integrity",
        )
    return ImagePlan(header.with_total_size(total), tuple(planned), integrity, total, variant)


def variant_range(variant: IntegrityVariant, element_offset: int) -> tuple[int, bool]:
    """(bytes covered, short padding form) of ``variant`` for a code element at ``element_offset``."""
    for candidate, end, short_only in integrity_ranges(element_offset):
        if candidate is variant:
            return end, short_only
    raise ValueError(f"unknown integrity variant {variant!r}")  # pragma: no cover - the enum is closed


@dataclass(frozen=True)
class IntegrityResult:
    present: bool
    valid: bool | None
    variant: IntegrityVariant | None
    stored: bytes | None = None
    offset: int | None = None


class Tee:
    """Every byte of an output passes here once, in order: written to ``out``, fed to the
    SHA digests and CRC-32 (Salus' trailer), and its first ``covered`` bytes to AES-MMO
    (the integrity code's range).  ``zbota`` and ``rewrap`` both stream through one."""

    __slots__ = ("covered", "crc", "digests", "mmo", "out", "written")

    def __init__(self, out: BinaryIO, mmo: MmoHasher | None = None, covered: int = 0) -> None:
        self.out = out
        self.mmo = mmo
        self.covered = covered
        self.digests = Digests()
        self.crc = 0
        self.written = 0

    def write(self, piece: bytes | bytearray | memoryview) -> None:
        self.out.write(piece)
        self.digests.update(piece)
        self.crc = zlib.crc32(piece, self.crc)
        if self.mmo is not None and self.written < self.covered:
            self.mmo.update(memoryview(piece)[: self.covered - self.written])
        self.written += len(piece)


@dataclass(frozen=True)
class BuiltImage:
    """What :func:`write_image` wrote: enough to describe the file without reading it."""

    header: OtaHeader
    size: int
    sha256: str
    elements: tuple[ElementRef, ...]
    integrity: IntegrityResult
    sha512: str = ""
    sha3_256: str = ""

    def parsed(self) -> ParsedImage:
        """The file as :func:`parse_file` would describe it (it was just written so)."""
        return ParsedImage.from_refs(
            self.header, self.size, self.elements, integrity=self.integrity, sha256=self.sha256
        )


class Digests:
    """SHA-256, SHA-512 and SHA3-256 of one stream, fed once: the digests an index and a
    provenance attestation name (zigbee-OTA's ``sha512``, zigpy's ``sha3-256`` checksum)."""

    __slots__ = ("_hashes",)

    def __init__(self) -> None:
        self._hashes = (hashlib.sha256(), hashlib.sha512(), hashlib.sha3_256())

    def update(self, chunk: bytes | bytearray | memoryview) -> None:
        for h in self._hashes:
            h.update(chunk)

    @property
    def sha256(self) -> str:
        return self._hashes[0].hexdigest()

    @property
    def sha512(self) -> str:
        return self._hashes[1].hexdigest()

    @property
    def sha3_256(self) -> str:
        return self._hashes[2].hexdigest()


def write_image(
    plan: ImagePlan, out: BinaryIO, *, backend: Backend | None = None, crc_trailer: bool = False
) -> BuiltImage:
    """Stream the planned file to ``out``; hash (SHA-256/512, SHA3-256, AES-MMO if planned) on the way.

    The integrity code covers the bytes its variant says: the hasher is fed up to that
    end (the code's own tag header included for ``covers-tag-header``).  ``crc_trailer``
    appends Salus' trailer after the image: CRC-32 (zlib, little-endian) of every byte
    before it, outside the total image size.
    """
    mmo = MmoHasher(backend=backend) if plan.integrity else None
    offset = plan.integrity_offset
    covered, short_only = (0, False) if offset is None else variant_range(plan.variant, offset)
    tee = Tee(out, mmo, covered)
    emit = tee.write
    emit(encode_header(plan.header))
    for element in plan.elements:
        emit(encode_tag_header(element.tag, element.source.length))
        start = tee.written
        for chunk in element.source.chunks():
            emit(chunk)
        if tee.written - start != element.source.length:  # pragma: no cover - a Source bug
            raise RuntimeError(
                f"source of tag 0x{element.tag:04X} gave {tee.written - start} bytes, "
                f"not {element.source.length}"
            )
    refs = [e.ref for e in plan.elements]
    integrity = IntegrityResult(present=False, valid=None, variant=None)
    if mmo is not None and offset is not None:
        emit(encode_tag_header(IMAGE_INTEGRITY_CODE, DIGEST_SIZE))
        if mmo.length != covered:  # pragma: no cover - a bug in the range arithmetic
            raise RuntimeError(f"hashed {mmo.length} bytes for the integrity code, not {covered}")
        code = mmo.digest(short_form_only=short_only)
        emit(code)
        refs.append(ElementRef(IMAGE_INTEGRITY_CODE, DIGEST_SIZE, offset))
        integrity = IntegrityResult(True, True, plan.variant, code, offset)
    if tee.written != plan.total_size:  # pragma: no cover - a bug in the size arithmetic
        raise RuntimeError(f"wrote {tee.written} bytes but the header says {plan.total_size}")
    if crc_trailer:
        emit(tee.crc.to_bytes(CRC_TRAILER_SIZE, "little"))
    digests = tee.digests
    return BuiltImage(
        plan.header, tee.written, digests.sha256, tuple(refs), integrity, digests.sha512, digests.sha3_256
    )


def build_image(
    header: OtaHeader,
    elements: Sequence[SubElement],
    *,
    integrity: bool = False,
    align: int | None = None,
    fill: int = 0xFF,
    variant: IntegrityVariant = IntegrityVariant.STANDARD,
) -> bytes:
    """The whole file as bytes, for elements already in memory (tests, small tools)."""
    plan = plan_image(
        header,
        [(e.tag, BytesSource(e.data)) for e in elements],
        integrity=integrity,
        align=align,
        fill=fill,
        variant=variant,
    )
    out = io.BytesIO()
    write_image(plan, out)
    return out.getvalue()


# --- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
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


def parse_file(f: BinaryIO, size: int, *, backend: Backend | None = None) -> ParsedImage:
    """Decode the seekable binary file ``f`` of ``size`` bytes as an OTA file.

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
    """:func:`parse_file` for bytes already in memory."""
    return parse_file(io.BytesIO(data), len(data), backend=backend)


__all__ = [
    "CHUNK",
    "CRC_TRAILER_SIZE",
    "INTEGRITY_ELEMENT_SIZE",
    "PADDING",
    "BuiltImage",
    "BytesSource",
    "ConcatSource",
    "Digests",
    "FileSource",
    "FillSource",
    "ImagePlan",
    "IntegrityResult",
    "ParsedImage",
    "Source",
    "build_image",
    "padding_length",
    "parse_file",
    "parse_image",
    "plan_image",
    "variant_range",
    "write_image",
]
