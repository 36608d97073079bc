"""Change header values of an existing OTA file and keep everything else (issue 14, ``rewrap``).

Every sub-element is copied as it is, in its order; only the header changes, and with it
what depends on it: field control and header length (when an optional field appears),
the total image size (when signature elements are dropped), the integrity code (in the
variant the input used, at the position it had) and a Salus-style CRC-32 trailer.
Without a change the output is the input, byte for byte: that is the test of the rules.

Memory: element data is copied in chunks.  The integrity code is AES-MMO over the bytes
before it, and ``aes_mmo`` takes the whole message, so those bytes are kept until the
code is written.  An incremental hasher (``update(chunk)`` / ``digest(short_form_only)``)
would remove that buffer: see :class:`_Covered`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from typing import BinaryIO

from ota_action.errors import InputError
from ota_action.zigbee.elements import (
    IMAGE_INTEGRITY_CODE,
    SIGNATURE_TAGS,
    TAG_HEADER_SIZE,
    ElementRef,
    encode_tag_header,
    tag_name,
)
from ota_action.zigbee.header import (
    FC_DEVICE_SPECIFIC,
    FC_HARDWARE_VERSIONS,
    FC_SECURITY_CREDENTIAL,
    STRING_SIZE,
    OtaHeader,
    encode_header,
    header_size,
)
from ota_action.zigbee.integrity import DIGEST_SIZE, IntegrityVariant, match_integrity
from ota_action.zigbee.layout import (
    CHUNK,
    Layout,
    covered_length,
    iter_range,
    read_exact,
    read_layout,
    variant_digest,
)

CRC_TRAILER_SIZE = 4


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

    @property
    def size(self) -> int:
        extra = CRC_TRAILER_SIZE if self.crc_trailer else 0
        return self.header.total_image_size + extra + (self.trailing[1] if self.trailing else 0)


def _crc_trailer(src: BinaryIO, layout: Layout) -> bool:
    """True when the bytes after the image are exactly CRC-32 (zlib, LE) of the image (Salus)."""
    total = layout.header.total_image_size
    if layout.file_size - total != CRC_TRAILER_SIZE:
        return False
    crc = 0
    for piece in iter_range(src, 0, total):
        crc = zlib.crc32(piece, crc)
    return read_exact(src, total, CRC_TRAILER_SIZE) == crc.to_bytes(4, "little")


def plan_rewrap(
    src: BinaryIO,
    size: int,
    changes: HeaderChanges,
    *,
    drop_signatures: bool = False,
    integrity_variant: IntegrityVariant | None = None,
) -> RewrapPlan:
    """Check that ``src`` can be rewrapped and decide what to write.

    Refused (InputError, exit 2): a layout the element walk does not end cleanly on
    (containers, Telink and Hue layouts), more than one integrity element, an integrity
    code that matches no known variant (unless ``integrity_variant`` says which to
    write), and Smart Energy signature or certificate elements unless
    ``drop_signatures``: a new header would invalidate the signature.
    """
    layout = read_layout(src, size)
    if layout.problem is not None:
        raise InputError(
            f"rewrap needs the plain sub-element layout; this file does not have it: {layout.problem}",
            field="image",
        )
    codes = layout.integrity_elements
    if len(codes) > 1:
        raise InputError(
            f"has {len(codes)} integrity elements (0x0003); rewrap cannot tell which to recompute",
            field="image",
        )
    signatures = tuple(e for e in layout.elements if e.tag in SIGNATURE_TAGS)
    if signatures and not drop_signatures:
        listed = ", ".join(f"0x{e.tag:04X} ({tag_name(e.tag)})" for e in signatures)
        raise InputError(
            f"carries Smart Energy signature elements {listed}; a changed header would make "
            "them invalid: use --drop-signatures to remove them",
            field="image",
        )
    variant: IntegrityVariant | None = None
    if codes:
        code = codes[0]
        if code.length != DIGEST_SIZE:
            raise InputError(
                f"integrity element at offset {code.offset} holds {code.length} bytes, not {DIGEST_SIZE}",
                field="image",
            )
        found = integrity_variant
        if found is None:
            # The only whole-prefix read: bounded by the file, as the hash itself is.
            covered = read_exact(src, 0, code.offset + TAG_HEADER_SIZE)
            stored = read_exact(src, code.data_offset, DIGEST_SIZE)
            found = match_integrity(covered, code.offset, stored)
        if found is None:
            raise InputError(
                f"integrity code at offset {code.offset} matches none of the known variants "
                "(standard, covers-tag-header, short-padding-only); give --integrity-variant "
                "to say which one to write",
                field="image",
            )
        variant = found
    copies = tuple(e for e in layout.elements if e.tag not in SIGNATURE_TAGS)
    header = changed_header(layout.header, changes)
    total = header.header_length + sum(TAG_HEADER_SIZE + e.length for e in copies)
    header = header.with_total_size(total)
    crc = _crc_trailer(src, layout)
    trailing = None
    warnings: list[str] = []
    if layout.trailing_bytes and not crc:
        trailing = (layout.header.total_image_size, layout.trailing_bytes)
        if not changes.empty or signatures:
            warnings.append(
                f"the {layout.trailing_bytes} bytes after the total image size are copied unchanged; "
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
    )


class _Covered:
    """The output bytes an integrity code will cover, kept until it is written.

    This is where an incremental AES-MMO hasher goes: ``add`` would feed it and
    ``digest`` finish it, instead of holding the bytes (bounded by the input size).
    """

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.data = bytearray()

    def add(self, piece: bytes) -> None:
        if self.limit is not None and len(self.data) < self.limit:
            self.data += piece[: self.limit - len(self.data)]


def write_rewrap(plan: RewrapPlan, src: BinaryIO, dst: BinaryIO, *, chunk: int = CHUNK) -> int:
    """Write the rewrapped file to ``dst``; return the number of bytes written."""
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
    covered = _Covered(
        None if code_offset is None or plan.integrity is None else covered_length(code_offset, plan.integrity)
    )

    def out(piece: bytes) -> None:
        nonlocal written, crc
        dst.write(piece)
        covered.add(piece)
        crc = zlib.crc32(piece, crc)
        written += len(piece)

    out(encode_header(plan.header))
    for ref in plan.copies:
        if ref.tag == IMAGE_INTEGRITY_CODE and plan.integrity is not None and code_offset is not None:
            out(encode_tag_header(IMAGE_INTEGRITY_CODE, DIGEST_SIZE))
            out(variant_digest(bytes(covered.data), code_offset, plan.integrity))
            continue
        for piece in iter_range(src, ref.offset, ref.end, chunk):
            out(piece)
    if written != plan.header.total_image_size:  # pragma: no cover - a bug in the plan arithmetic
        raise RuntimeError(f"wrote {written} bytes but the header says {plan.header.total_image_size}")
    if plan.crc_trailer:
        trailer = crc.to_bytes(4, "little")
        dst.write(trailer)
        written += len(trailer)
    if plan.trailing is not None:
        start, length = plan.trailing
        for piece in iter_range(src, start, start + length, chunk):
            dst.write(piece)
            written += len(piece)
    return written


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
    plan = plan_rewrap(
        src, len(data), changes, drop_signatures=drop_signatures, integrity_variant=integrity_variant
    )
    dst = io.BytesIO()
    write_rewrap(plan, src, dst)
    return dst.getvalue(), plan


__all__ = [
    "HeaderChanges",
    "RewrapPlan",
    "changed_header",
    "plan_rewrap",
    "rewrap_bytes",
    "write_rewrap",
]
