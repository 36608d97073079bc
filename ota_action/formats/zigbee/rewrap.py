"""Change header values of an existing OTA file and keep everything else (issue 14, ``rewrap``).

Every sub-element is copied as it is, in its order; only the header changes, and with it
what depends on it: field control and header length (when an optional field appears),
the total image size (when signature elements are dropped), the integrity code (in the
variant the input used, at the position it had) and a Salus-style CRC-32 trailer.
Without a change the output is the input, byte for byte: that is the test of the rules.

Memory: the input is read by :func:`~ota_action.formats.zigbee.image.parse_file` (header, a
seek-based walk, one chunked pass for the integrity variant), element data is copied in
chunks, and the new integrity code is computed by the incremental
:class:`~ota_action.formats.zigbee.integrity.MmoHasher` as the bytes go out: one pass, constant
memory.  A file with more sub-elements than the walk lists (1000) is refused.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import BinaryIO

from ota_action.errors import OPTION, Hint, InputError
from ota_action.formats.zigbee.aes import Backend
from ota_action.formats.zigbee.elements import (
    ELEMENTS_LISTED,
    IMAGE_INTEGRITY_CODE,
    SIGNATURE_TAGS,
    TAG_HEADER_SIZE,
    ElementRef,
    encode_tag_header,
    tag_name,
)
from ota_action.formats.zigbee.header import (
    FC_DEVICE_SPECIFIC,
    FC_HARDWARE_VERSIONS,
    FC_SECURITY_CREDENTIAL,
    STRING_SIZE,
    OtaHeader,
    encode_header,
    header_size,
)
from ota_action.formats.zigbee.image import CRC_TRAILER_SIZE, Digests, ParsedImage, parse_file, variant_range
from ota_action.formats.zigbee.integrity import DIGEST_SIZE, IntegrityVariant, MmoHasher
from ota_action.formats.zigbee.streams import CHUNK, chunks
from ota_action.formats.zigbee.trailers import has_crc_trailer


@dataclass(frozen=True)
class HeaderChanges:
    """The header values to change; ``None`` keeps the input's value.

    ``header_string`` is the raw field: up to 32 bytes, NUL-padded (``--string`` encodes
    ASCII text, ``--string-hex`` gives all 32 bytes).  A hardware bound given alone keeps
    the other bound of the input, or the widest value when the input had none.
    """

    file_version: int | None = None
    header_string: bytes | None = None
    manufacturer_code: int | None = None
    image_type: int | None = None
    zigbee_stack_version: int | None = None
    minimum_hardware_version: int | None = None
    maximum_hardware_version: int | None = None
    security_credential_version: int | None = None
    upgrade_file_destination: int | None = None

    @property
    def empty(self) -> bool:
        return all(getattr(self, name) is None for name in self.__dataclass_fields__)


def changed_header(old: OtaHeader, changes: HeaderChanges) -> OtaHeader:
    """``old`` with ``changes`` applied; field control and header length follow the fields.

    Reserved field-control bits and surplus header bytes (``extra``) are kept as found.
    The total image size is left for the writer.
    """
    values: dict[str, object] = {}
    for name in ("file_version", "manufacturer_code", "image_type", "zigbee_stack_version"):
        value = getattr(changes, name)
        if value is not None:
            values[name] = value
    if changes.header_string is not None:
        if len(changes.header_string) > STRING_SIZE:
            raise InputError(
                f"is {len(changes.header_string)} bytes; the header string holds at most {STRING_SIZE}",
                field="string",
            )
        values["header_string"] = changes.header_string.ljust(STRING_SIZE, b"\0")
    control = old.field_control
    if changes.security_credential_version is not None:
        values["security_credential_version"] = changes.security_credential_version
        control |= FC_SECURITY_CREDENTIAL
    if changes.upgrade_file_destination is not None:
        values["upgrade_file_destination"] = changes.upgrade_file_destination
        control |= FC_DEVICE_SPECIFIC
    low, high = changes.minimum_hardware_version, changes.maximum_hardware_version
    if low is not None or high is not None:
        had = bool(old.field_control & FC_HARDWARE_VERSIONS)
        if low is None:
            low = old.minimum_hardware_version if had and old.minimum_hardware_version is not None else 0
        if high is None:
            high = (
                old.maximum_hardware_version if had and old.maximum_hardware_version is not None else 0xFFFF
            )
        if low > high:
            raise InputError(
                f"minimum hardware version 0x{low:04X} is above the maximum 0x{high:04X}",
                field="min_hwv",
                value=f"0x{low:04X}",
            )
        values["minimum_hardware_version"] = low
        values["maximum_hardware_version"] = high
        control |= FC_HARDWARE_VERSIONS
    values["field_control"] = control
    values["header_length"] = header_size(control) + len(old.extra)
    return replace(old, **values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RewrapPlan:
    """What :func:`write_rewrap` writes: new header, copied elements, recomputed codes."""

    header: OtaHeader  # with its final total image size
    copies: tuple[ElementRef, ...]  # source elements copied as they are, in order
    dropped: tuple[ElementRef, ...]  # signature elements left out (drop_signatures)
    integrity: IntegrityVariant | None  # recomputed at the position of the 0x0003 element
    crc_trailer: bool  # the input's 4 trailing bytes are CRC-32(image): recomputed
    trailing: tuple[int, int] | None  # other trailing bytes (offset, length): copied as they are
    warnings: tuple[str, ...]
    source: ParsedImage | None = None  # the input as parse_file described it

    @property
    def size(self) -> int:
        extra = CRC_TRAILER_SIZE if self.crc_trailer else 0
        return self.header.total_image_size + extra + (self.trailing[1] if self.trailing else 0)


def _crc_trailer(src: BinaryIO, parsed: ParsedImage) -> bool:
    """True when the bytes after the image are exactly CRC-32 (zlib, LE) of the image (Salus)."""
    return has_crc_trailer(src, parsed.header.total_image_size, parsed.file_size)


def plan_rewrap(
    src: BinaryIO,
    size: int,
    changes: HeaderChanges,
    *,
    drop_signatures: bool = False,
    integrity_variant: IntegrityVariant | None = None,
    backend: Backend,
) -> RewrapPlan:
    """Check that ``src`` can be rewrapped and decide what to write.

    Refused (InputError, exit 2): a layout the element walk does not end cleanly on
    (containers, Telink and Hue layouts), more sub-elements than the walk lists, more
    than one integrity element, an integrity code that matches no known variant (unless
    ``integrity_variant`` says which to write), and Smart Energy signature or
    certificate elements unless ``drop_signatures``: a new header would invalidate the
    signature.  A missing header is a FormatError.
    """
    parsed = parse_file(src, size, backend=backend)
    if parsed.walk_problem is not None:
        raise InputError(
            f"rewrap needs the plain sub-element layout; this file does not have it: {parsed.walk_problem}",
            field="image",
        )
    if parsed.elements_total > len(parsed.elements):
        raise InputError(
            f"has {parsed.elements_total} sub-elements; rewrap copies at most {ELEMENTS_LISTED}",
            field="image",
        )
    elements = parsed.elements
    codes = [e for e in elements if e.tag == IMAGE_INTEGRITY_CODE]
    if len(codes) > 1:
        raise InputError(
            f"has {len(codes)} integrity elements (0x0003); rewrap cannot tell which to recompute",
            field="image",
        )
    signatures = tuple(e for e in elements if e.tag in SIGNATURE_TAGS)
    if signatures and not drop_signatures:
        listed = ", ".join(f"0x{e.tag:04X} ({tag_name(e.tag)})" for e in signatures)
        raise InputError(
            f"carries Smart Energy signature elements {listed}; a changed header would make them invalid",
            field="image",
            hint=Hint("drop_signatures", f": use {OPTION} to remove them"),
        )
    variant: IntegrityVariant | None = None
    if codes:
        code = codes[0]
        if code.length != DIGEST_SIZE:
            raise InputError(
                f"integrity element at offset {code.offset} holds {code.length} bytes, not {DIGEST_SIZE}",
                field="image",
            )
        variant = integrity_variant or parsed.integrity.variant
        if variant is None:
            raise InputError(
                f"integrity code at offset {code.offset} matches none of the known variants "
                "(standard, covers-tag-header, short-padding-only)",
                field="image",
                hint=Hint("integrity_variant", f"; give {OPTION} to say which one to write"),
            )
    copies = tuple(e for e in elements if e.tag not in SIGNATURE_TAGS)
    header = changed_header(parsed.header, changes)
    total = header.header_length + sum(TAG_HEADER_SIZE + e.length for e in copies)
    header = header.with_total_size(total)
    crc = _crc_trailer(src, parsed)
    trailing = None
    warnings: list[str] = []
    if parsed.trailing_bytes and not crc:
        trailing = (parsed.header.total_image_size, parsed.trailing_bytes)
        if not changes.empty or signatures:
            warnings.append(
                f"the {parsed.trailing_bytes} bytes after the total image size are copied unchanged; "
                "if they are a checksum of the image, it no longer matches"
            )
    for ref in signatures:
        warnings.append(f"dropped sub-element 0x{ref.tag:04X} ({tag_name(ref.tag)}) at offset {ref.offset}")
    return RewrapPlan(
        header=header,
        copies=copies,
        dropped=signatures,
        integrity=variant,
        crc_trailer=crc,
        trailing=trailing,
        warnings=tuple(warnings),
        source=parsed,
    )


@dataclass(frozen=True)
class Rewrapped:
    """What :func:`write_rewrap` wrote: its size and digests (computed on the way out)."""

    size: int
    sha256: str
    sha512: str
    sha3_256: str
    integrity: bytes | None  # the new integrity code


def _copy(src: BinaryIO, start: int, stop: int, chunk: int) -> Iterator[bytes]:
    """``[start, stop)`` of ``src``; a file that shrank since planning is an InputError."""
    position = start
    for piece in chunks(src, start, stop, chunk):
        position += len(piece)
        yield piece
    if position != stop:
        raise InputError(f"changed size while being read (it ended at offset {position})", field="image")


def write_rewrap(
    plan: RewrapPlan, src: BinaryIO, dst: BinaryIO, *, backend: Backend, chunk: int = CHUNK
) -> Rewrapped:
    """Stream the rewrapped file to ``dst``: header, copied elements, the new integrity code
    (AES-MMO fed as the bytes go out, over the range its variant covers) and trailer."""
    digests = Digests()
    written = 0
    crc = 0
    code_offset: int | None = None
    if plan.integrity is not None:
        offset = plan.header.header_length
        for ref in plan.copies:
            if ref.tag == IMAGE_INTEGRITY_CODE:
                code_offset = offset
                break
            offset += TAG_HEADER_SIZE + ref.length
    covered, short_only = (0, False)
    mmo: MmoHasher | None = None
    if code_offset is not None and plan.integrity is not None:
        covered, short_only = variant_range(plan.integrity, code_offset)
        mmo = MmoHasher(backend=backend)

    def out(piece: bytes) -> None:
        nonlocal written, crc
        dst.write(piece)
        digests.update(piece)
        if mmo is not None and written < covered:
            mmo.update(memoryview(piece)[: covered - written])
        if written < plan.header.total_image_size:
            crc = zlib.crc32(piece, crc)
        written += len(piece)

    code: bytes | None = None
    out(encode_header(plan.header))
    for ref in plan.copies:
        if ref.tag == IMAGE_INTEGRITY_CODE and mmo is not None:
            out(encode_tag_header(IMAGE_INTEGRITY_CODE, DIGEST_SIZE))
            code = mmo.digest(short_form_only=short_only)
            out(code)
            continue
        for piece in _copy(src, ref.offset, ref.end, chunk):
            out(piece)
    if written != plan.header.total_image_size:  # pragma: no cover - a bug in the plan arithmetic
        raise RuntimeError(f"wrote {written} bytes but the header says {plan.header.total_image_size}")
    if plan.crc_trailer:
        out(crc.to_bytes(CRC_TRAILER_SIZE, "little"))
    if plan.trailing is not None:
        start, length = plan.trailing
        for piece in _copy(src, start, start + length, chunk):
            out(piece)
    return Rewrapped(written, digests.sha256, digests.sha512, digests.sha3_256, code)


def rewrap_bytes(
    data: bytes,
    changes: HeaderChanges,
    *,
    drop_signatures: bool = False,
    integrity_variant: IntegrityVariant | None = None,
) -> tuple[bytes, RewrapPlan]:
    """:func:`plan_rewrap` + :func:`write_rewrap` on bytes in memory (tests, small files)."""
    import io

    src = io.BytesIO(data)
    from ota_action.formats.zigbee import aes

    backend = aes.get()
    plan = plan_rewrap(
        src,
        len(data),
        changes,
        drop_signatures=drop_signatures,
        integrity_variant=integrity_variant,
        backend=backend,
    )
    dst = io.BytesIO()
    write_rewrap(plan, src, dst, backend=backend)
    return dst.getvalue(), plan


__all__ = [
    "HeaderChanges",
    "RewrapPlan",
    "Rewrapped",
    "changed_header",
    "plan_rewrap",
    "rewrap_bytes",
    "write_rewrap",
]
