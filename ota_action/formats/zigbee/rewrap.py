"""Change header values of an existing OTA file and keep everything else (issue 14, ``rewrap``).

Every sub-element is copied as it is, in its order; only the header changes, and with it
what depends on it: field control and header length (when an optional field appears),
the total image size (when signature elements are dropped), the integrity code (in the
variant the input used, at the position it had) and a Salus-style CRC-32 trailer.
Without a change the output is the input, byte for byte: that is the test of the rules.

A vendor layout that ``inspect`` reads (Philips Hue's SBL, Telink's encrypted 0xF000,
LEDVANCE's files with bytes after the last element) is rewrapped too: every byte after
the header is kept as it is, and the total image size moves by what the header grew.

Sizes are checked before any byte is read past the header and the element walk: a
grown header that pushes the file past the u32 total image size, or an integrity code
that would cover 512 MiB or more (AES-MMO's limit), is an InputError at once.

Memory: the input is read by :func:`~ota_action.formats.zigbee.image.parse_file` (header, a
seek-based walk, one chunked pass for the integrity variant), element data is copied in
chunks, and the new integrity code is computed by the incremental
:class:`~ota_action.formats.zigbee.integrity.MmoHasher` as the bytes go out: one pass, constant
memory.  A file with more sub-elements than the walk lists (1000) is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
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
    walk_file,
)
from ota_action.formats.zigbee.header import OtaHeader, decode_header, encode_header
from ota_action.formats.zigbee.header_changes import HeaderChanges, changed_header
from ota_action.formats.zigbee.image import (
    CRC_TRAILER_SIZE,
    MAX_TOTAL_SIZE,
    ParsedImage,
    Tee,
    parse_file,
    variant_range,
)
from ota_action.formats.zigbee.integrity import DIGEST_SIZE, MAX_INPUT, IntegrityVariant, MmoHasher
from ota_action.formats.zigbee.layouts import STANDARD, detect_layout
from ota_action.formats.zigbee.parsed import HEADER_READ
from ota_action.formats.zigbee.streams import CHUNK, chunks, read_at
from ota_action.formats.zigbee.trailers import has_crc_trailer
from ota_action.records import record


@record
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
    body: tuple[int, int] | None = None  # a vendor layout: every byte after the header, kept
    layout: str = STANDARD

    @property
    def size(self) -> int:
        if self.body is not None:
            return self.header.header_length + self.body[1] - self.body[0]
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
    signature.  A missing header is a FormatError.  Sizes are checked before the file is
    read (:func:`check_sizes`).
    """
    check_sizes(src, size, changes, drop_signatures=drop_signatures, integrity_variant=integrity_variant)
    parsed = parse_file(src, size, backend=backend)
    if parsed.walk_problem is not None:
        return _vendor_plan(src, parsed, changes)
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
    variant = _variant_to_write(codes[0], parsed, integrity_variant) if codes else None
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


def _variant_to_write(
    code: ElementRef, parsed: ParsedImage, given: IntegrityVariant | None
) -> IntegrityVariant:
    """The integrity variant a rewrapped file gets: the one asked for, else the input's own."""
    if code.length != DIGEST_SIZE:
        raise InputError(
            f"integrity element at offset {code.offset} holds {code.length} bytes, not {DIGEST_SIZE}",
            field="image",
        )
    variant = given or parsed.integrity.variant
    if variant is None:
        raise InputError(
            f"integrity code at offset {code.offset} matches none of the known variants "
            "(standard, covers-tag-header, short-padding-only)",
            field="image",
            hint=Hint("integrity_variant", f"; give {OPTION} to say which one to write"),
        )
    return variant


def check_sizes(
    src: BinaryIO,
    size: int,
    changes: HeaderChanges,
    *,
    drop_signatures: bool = False,
    integrity_variant: IntegrityVariant | None = None,
) -> None:
    """Refuse, from the header and the element walk alone (seeks, no data read), an output
    whose total image size passes the u32 field or whose integrity code would cover 512 MiB
    or more: neither can be written, and finding out after reading gigabytes helps no one."""
    old = decode_header(read_at(src, 0, min(size, HEADER_READ)))
    new = changed_header(old, changes)
    walk = walk_file(src, old.header_length, min(old.total_image_size, size))
    if walk.problem is not None:  # a vendor layout: the bytes after the header move as one
        total = old.total_image_size + new.header_length - old.header_length
        code_offset = None
    else:
        kept = [e for e in walk.elements if not (drop_signatures and e.tag in SIGNATURE_TAGS)]
        total = new.header_length + sum(TAG_HEADER_SIZE + e.length for e in kept)
        code_offset = _code_offset(new.header_length, kept)
    if total > MAX_TOTAL_SIZE:
        raise InputError(
            f"would be {total} bytes after the new header ({new.header_length} bytes, was "
            f"{old.header_length}); the OTA header's total image size is a u32 and holds at most "
            f"{MAX_TOTAL_SIZE} bytes",
            field="image",
        )
    if code_offset is not None and integrity_variant is not None:
        end, short_only = variant_range(integrity_variant, code_offset)
        if end >= MAX_INPUT and not short_only:
            raise InputError(
                f"the integrity code would cover {end} bytes; AES-MMO (Zigbee Annex B.6) stores "
                f"the length in 32 bits and ends below {MAX_INPUT} bytes (512 MiB), so no "
                f"{integrity_variant.value} code exists for a file this large",
                field="integrity_variant",
            )


def _code_offset(start: int, elements: list[ElementRef] | tuple[ElementRef, ...]) -> int | None:
    """Where the integrity element (0x0003) lands when ``elements`` follow a header of ``start`` bytes."""
    offset = start
    for ref in elements:
        if ref.tag == IMAGE_INTEGRITY_CODE:
            return offset
        offset += TAG_HEADER_SIZE + ref.length
    return None


def _vendor_plan(src: BinaryIO, parsed: ParsedImage, changes: HeaderChanges) -> RewrapPlan:
    """A layout ``inspect`` recognises: a new header, then every byte after the old one.

    Refused: a file no layout explains, and one whose layout lists signature or integrity
    elements (kept byte for byte, they would no longer match the new header).
    """
    old = parsed.header
    layout = detect_layout(src, old, parsed.elements, parsed.walk_problem, parsed.file_size)
    if layout.name == STANDARD or layout.problem is not None:
        raise InputError(
            "rewrap needs the plain sub-element layout or a vendor layout inspect recognises; "
            f"this file has neither: {layout.problem or parsed.walk_problem}",
            field="image",
        )
    bound = [e for e in layout.elements if e.tag in SIGNATURE_TAGS or e.tag == IMAGE_INTEGRITY_CODE]
    if bound:
        listed = ", ".join(f"0x{e.tag:04X} ({tag_name(e.tag)})" for e in bound)
        raise InputError(
            f"is a {layout.name} file carrying {listed}, which a new header would invalidate; "
            "rewrap keeps a vendor layout's bytes as they are, so it cannot recompute or drop them",
            field="image",
        )
    header = changed_header(old, changes)
    header = header.with_total_size(old.total_image_size + header.header_length - old.header_length)
    return RewrapPlan(
        header=header,
        copies=(),
        dropped=(),
        integrity=None,
        crc_trailer=False,
        trailing=None,
        warnings=(),
        source=parsed,
        body=(old.header_length, parsed.file_size),
        layout=layout.name,
    )


@record
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
    (AES-MMO fed as the bytes go out, over the range its variant covers) and trailer; for
    a vendor layout, the header and every byte after the old one."""
    code_offset = _code_offset(plan.header.header_length, plan.copies) if plan.integrity else None
    covered, short_only = (0, False)
    mmo: MmoHasher | None = None
    if code_offset is not None and plan.integrity is not None:
        covered, short_only = variant_range(plan.integrity, code_offset)
        mmo = MmoHasher(backend=backend)
    tee = Tee(dst, mmo, covered)
    code: bytes | None = None
    tee.write(encode_header(plan.header))
    if plan.body is not None:
        for piece in _copy(src, *plan.body, chunk):
            tee.write(piece)
        return _done(tee, code)
    for ref in plan.copies:
        if ref.tag == IMAGE_INTEGRITY_CODE and mmo is not None:
            tee.write(encode_tag_header(IMAGE_INTEGRITY_CODE, DIGEST_SIZE))
            code = mmo.digest(short_form_only=short_only)
            tee.write(code)
            continue
        for piece in _copy(src, ref.offset, ref.end, chunk):
            tee.write(piece)
    if tee.written != plan.header.total_image_size:  # pragma: no cover - a bug in the plan arithmetic
        raise RuntimeError(f"wrote {tee.written} bytes but the header says {plan.header.total_image_size}")
    if plan.crc_trailer:
        tee.write(tee.crc.to_bytes(CRC_TRAILER_SIZE, "little"))
    if plan.trailing is not None:
        start, length = plan.trailing
        for piece in _copy(src, start, start + length, chunk):
            tee.write(piece)
    return _done(tee, code)


def _done(tee: Tee, code: bytes | None) -> Rewrapped:
    d = tee.digests
    return Rewrapped(tee.written, d.sha256, d.sha512, d.sha3_256, code)


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
