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

Where element bytes come from is :mod:`~ota_action.formats.zigbee.sources`; reading a
file is :mod:`~ota_action.formats.zigbee.parsed` (:func:`parse_file`).  Both are
re-exported here, the module callers have always imported them from.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO, NamedTuple

from ota_action.errors import OPTION, Hint, InputError
from ota_action.formats.zigbee.elements import (
    IMAGE_INTEGRITY_CODE,
    PADDING,
    TAG_HEADER_SIZE,
    UPGRADE_IMAGE,
    ElementRef,
    SubElement,
    encode_tag_header,
)
from ota_action.formats.zigbee.header import OtaHeader, encode_header
from ota_action.formats.zigbee.integrity import (
    DIGEST_SIZE,
    MAX_INPUT,
    IntegrityVariant,
    MmoHasher,
    integrity_ranges,
)
from ota_action.formats.zigbee.integrity import (
    backend as integrity_backend,
)
from ota_action.formats.zigbee.parsed import IntegrityResult, ParsedImage, parse_file, parse_image
from ota_action.formats.zigbee.sources import BytesSource, ConcatSource, FileSource, FillSource, Source
from ota_action.formats.zigbee.streams import CHUNK

if TYPE_CHECKING:
    from ota_action.formats.zigbee.aes import Backend

INTEGRITY_ELEMENT_SIZE = TAG_HEADER_SIZE + DIGEST_SIZE
MAX_TOTAL_SIZE = 0xFFFFFFFF
CRC_TRAILER_SIZE = 4  # Salus' CRC-32 after the image


# --- planning and writing -------------------------------------------------------------


class PlannedElement(NamedTuple):
    tag: int
    source: Source
    offset: int  # of the tag id

    @property
    def ref(self) -> ElementRef:
        return ElementRef(self.tag, self.source.length, self.offset)


class ImagePlan(NamedTuple):
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
            "code exists for a file this large",
            field="integrity",
            hint=Hint("integrity", f": leave out {OPTION}"),
        )
    return ImagePlan(header.with_total_size(total), tuple(planned), integrity, total, variant)


def variant_range(variant: IntegrityVariant, element_offset: int) -> tuple[int, bool]:
    """(bytes covered, short padding form) of ``variant`` for a code element at ``element_offset``."""
    for candidate, end, short_only in integrity_ranges(element_offset):
        if candidate is variant:
            return end, short_only
    raise ValueError(f"unknown integrity variant {variant!r}")  # pragma: no cover - the enum is closed


class Tee:
    """Every byte of an output passes here once, in order: written to ``out``, fed to the
    SHA digests and CRC-32 (Salus' trailer), and its first ``covered`` bytes to AES-MMO
    (the integrity code's range).  ``zbota`` and ``rewrap`` both stream through one."""

    __slots__ = ("covered", "crc", "digests", "mmo", "out", "written")

    def __init__(
        self, out: BinaryIO, mmo: MmoHasher | None = None, covered: int = 0, *, index_digests: bool = True
    ) -> None:
        self.out = out
        self.mmo = mmo
        self.covered = covered
        self.digests = Digests(index=index_digests)
        self.crc = 0
        self.written = 0

    def write(self, piece: bytes | bytearray | memoryview) -> None:
        self.out.write(piece)
        self.digests.update(piece)
        self.crc = zlib.crc32(piece, self.crc)
        if self.mmo is not None and self.written < self.covered:
            self.mmo.update(memoryview(piece)[: self.covered - self.written])
        self.written += len(piece)


class BuiltImage(NamedTuple):
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
    provenance attestation name (zigbee-OTA's ``sha512``, zigpy's ``sha3-256`` checksum).
    Without ``index``, SHA-256 only (the other two are then "")."""

    __slots__ = ("_hashes",)

    def __init__(self, *, index: bool = True) -> None:
        self._hashes = (
            (hashlib.sha256(), hashlib.sha512(), hashlib.sha3_256()) if index else (hashlib.sha256(),)
        )

    def update(self, chunk: bytes | bytearray | memoryview) -> None:
        for h in self._hashes:
            h.update(chunk)

    @property
    def sha256(self) -> str:
        return self._hashes[0].hexdigest()

    @property
    def sha512(self) -> str:
        return self._hashes[1].hexdigest() if len(self._hashes) > 1 else ""

    @property
    def sha3_256(self) -> str:
        return self._hashes[2].hexdigest() if len(self._hashes) > 1 else ""


def write_image(
    plan: ImagePlan,
    out: BinaryIO,
    *,
    backend: Backend | None = None,
    crc_trailer: bool = False,
    index_digests: bool = True,
) -> BuiltImage:
    """Stream the planned file to ``out``; hash (SHA-256/512, SHA3-256, AES-MMO if planned) on the way.

    The integrity code covers the bytes its variant says: the hasher is fed up to that
    end (the code's own tag header included for ``covers-tag-header``).  ``crc_trailer``
    appends Salus' trailer after the image: CRC-32 (zlib, little-endian) of every byte
    before it, outside the total image size.
    """
    if plan.integrity and backend is None:
        raise ValueError("an integrity code is planned: give the AES backend to compute it")
    mmo = MmoHasher(backend=backend) if plan.integrity and backend is not None else None
    offset = plan.integrity_offset
    covered, short_only = (0, False) if offset is None else variant_range(plan.variant, offset)
    tee = Tee(out, mmo, covered, index_digests=index_digests)
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
    """The whole file as bytes, for elements already in memory (tests, small tools); the
    integrity code, if asked for, with the fastest AES backend."""
    plan = plan_image(
        header,
        [(e.tag, BytesSource(e.data)) for e in elements],
        integrity=integrity,
        align=align,
        fill=fill,
        variant=variant,
    )
    out = io.BytesIO()
    write_image(plan, out, backend=integrity_backend() if integrity else None)
    return out.getvalue()


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
