"""``matter``: settings in, a Matter OTA image out, streamed; optionally its DCL document.

Checks first, in the order a user fixes them: the applicable versions against the
software version, the output path, the payload (a regular file, its size from ``stat``),
then the header is planned (so an image the format cannot hold is refused before any
read).  The payload is read twice in chunks (digest, then copy) into a temporary file
renamed into place; the description comes from what was written.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

from ota_action.commands.firmware_files import converted_image
from ota_action.commands.matter_reading import read_matter_image
from ota_action.edges import files, log
from ota_action.errors import InputError
from ota_action.formats.firmware.binary import FilledImage
from ota_action.formats.matter.header import BUILD_DIGESTS, DigestType, MatterHeader
from ota_action.formats.matter.image import PayloadSource, StreamWindow, plan_header, write_image
from ota_action.formats.zigbee.checks import Finding
from ota_action.publish.dcl import dcl_fields
from ota_action.records import record
from ota_action.results.matter import MatterResult, MatterSummary, dcl_document
from ota_action.settings.matter import MatterSettings


@record
class _Source:
    """Where the payload comes from: a file, or the payload of an image being rewrapped."""

    path: Path
    field: str
    offset: int
    size: int
    base: MatterHeader | None = None  # the rewrapped image's header
    hex: FilledImage | None = None  # a .hex, .s37 or ELF payload, converted to its binary image


def _source(settings: MatterSettings) -> _Source:
    if settings.from_image is None:
        if settings.payload is None:
            raise InputError("is required (or --from-image, to rewrap an image)", field="payload")
        path = settings.payload
        size = files.input_size(path, field="payload")
        converted = converted_image(path, field="payload")  # as zbota's tags: the image, not the text
        if converted is not None:
            return _Source(path, "payload", 0, converted.length, hex=converted)
        return _Source(path, "payload", 0, size)
    if settings.payload is not None:
        raise InputError("cannot be given with --from-image, which keeps its payload", field="payload")
    path = settings.from_image
    image = read_matter_image(path, field="from_image")
    if image.file_size < image.expected_total or image.computed_digest != image.header.digest:
        raise InputError(
            "is truncated or its digest does not match its payload (see verify); "
            "a rewrap would give a corrupt payload a valid digest",
            field="from_image",
            value=str(path),
        )
    return _Source(path, "from_image", image.payload_offset, image.header.payload_size, image.header)


def _pick(settings: MatterSettings, field: str, base: MatterHeader | None, attribute: str) -> Any:
    given = getattr(settings, field)
    if given is not None:
        return given
    if base is None:
        raise InputError("is required", field=field)
    return getattr(base, attribute)


def _kept(given: Any, base: Any) -> Any:
    """An optional field: the value given, else the rewrapped image's (None: absent)."""
    return given if given is not None else base


def _digest_type(settings: MatterSettings, base: MatterHeader | None) -> DigestType:
    if settings.digest is not None:
        return settings.digest
    kind = None if base is None else base.digest_kind
    return kind if kind in BUILD_DIGESTS and kind is not None else DigestType.SHA256


def _template(settings: MatterSettings, source: _Source) -> MatterHeader:
    """The header to write: each value given, else the rewrapped image's (required ones
    without either are refused, naming the option)."""
    base = source.base
    header = MatterHeader(
        vendor_id=_pick(settings, "vendor_id", base, "vendor_id"),
        product_id=_pick(settings, "product_id", base, "product_id"),
        software_version=_pick(settings, "version", base, "software_version"),
        software_version_string=_pick(settings, "version_string", base, "software_version_string"),
        payload_size=source.size,
        digest_type=int(_digest_type(settings, base)),
        digest=b"",
        min_applicable_version=_kept(settings.min_version, base and base.min_applicable_version),
        max_applicable_version=_kept(settings.max_version, base and base.max_applicable_version),
        release_notes_url=_kept(settings.release_notes_url, base and base.release_notes_url),
    )
    kept = {f for f in ("min_version", "max_version") if getattr(settings, f) is None}
    _check_versions(header, kept if base is not None else set())
    return header


def _check_versions(header: MatterHeader, kept: set[str]) -> None:
    """The specification's rule (and Commander's and connectedhomeip's): both applicable
    versions lie below the software version, and the minimum is not above the maximum.
    ``kept`` names the fields taken from a rewrapped image, so the message says so."""
    version = header.software_version

    def refuse(field: str, problem: str) -> None:
        origin = " (kept from the rewrapped image; give a new one)" if field in kept else ""
        raise InputError(problem + origin, field=field)

    for field, value in (
        ("min_version", header.min_applicable_version),
        ("max_version", header.max_applicable_version),
    ):
        if value is not None and value >= version:
            refuse(field, f"is {value}; it must be below the software version ({version})")
    low, high = header.min_applicable_version, header.max_applicable_version
    if low is not None and high is not None and low > high:
        refuse("min_version", f"is {low}, above the maximum applicable version ({high})")


def _check_paths(settings: MatterSettings) -> None:
    if settings.ota_url is not None and settings.dcl_out is None:
        raise InputError("is the DCL otaUrl, written only with the DCL document (dcl-out)", field="ota_url")
    files.check_output_path(settings.outfile)
    if settings.dcl_out is not None:
        files.check_output_path(settings.dcl_out, field="dcl_out")
        if os.path.abspath(settings.dcl_out) == os.path.abspath(settings.outfile):
            raise InputError("is the same file as --outfile", field="dcl_out", value=str(settings.dcl_out))
    # The image may replace the image it rewraps (written atomically after reading it);
    # nothing else may overwrite an input.
    pairs = [(settings.outfile, "outfile", settings.payload), (settings.dcl_out, "dcl_out", settings.payload)]
    pairs.append((settings.dcl_out, "dcl_out", settings.from_image))
    for out, field, source in pairs:
        if out is not None and source is not None and _same_file(out, source):
            raise InputError("is an input of this run; write it elsewhere", field=field, value=str(out))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):  # either is missing (or an unusable name): not the same file
        return False


def _warnings(header: MatterHeader) -> list[Finding]:
    """What ``verify`` would warn about in the image, said when it is built."""
    found = []
    url = header.release_notes_url
    if url is not None and not url.startswith("https://"):
        found.append(
            Finding.warning("release-notes-not-https", "release notes URL does not start with https://")
        )
    kind = DigestType(header.digest_type)
    if kind.digest_size < 32:
        found.append(Finding.warning("digest-short", f"{kind.label} digest is shorter than 256 bits"))
    return found


def preflight(settings: MatterSettings) -> None:
    """The checks that need no payload bytes (versions, the payload a regular file), for a
    caller planning many images before writing any (``build``)."""
    if settings.payload is not None:
        files.input_size(settings.payload, field="payload")
    _template(settings, _Source(settings.payload or Path(), "payload", 0, 0))


def run(settings: MatterSettings) -> MatterResult:
    started = time.perf_counter()
    _check_paths(settings)
    source = _source(settings)
    template = _template(settings, source)
    try:
        planned = plan_header(template, DigestType(template.digest_type))
        with contextlib.ExitStack() as stack:
            payload: PayloadSource
            if source.hex is not None:
                payload = source.hex
            else:
                stream = stack.enter_context(files.open_input(source.path, field=source.field))
                payload = StreamWindow(stream, source.offset, source.size, whole=source.base is None)
            out = stack.enter_context(files.atomic_output(settings.outfile))
            built = write_image(out, planned, payload)
    except InputError as exc:
        exc.field = exc.field or source.field
        exc.value = exc.value or str(source.path)
        raise
    dcl = None
    if settings.dcl_out is not None:
        dcl = dcl_fields(
            built.header, file_size=built.size, sha256_hex=built.sha256, ota_url=settings.ota_url
        )
        files.write_atomic(settings.dcl_out, dcl_document(dcl).encode("utf-8"), field="dcl_out")
    log.get().info(
        "matter.written",
        outfile=str(settings.outfile),
        size=built.size,
        sha256=built.sha256,
        digest=DigestType(template.digest_type).label,
        seconds=round(time.perf_counter() - started, 4),
    )
    return MatterResult(
        outfile=settings.outfile,
        size=built.size,
        sha256=built.sha256,
        sha512=built.sha512,
        sha3_256=built.sha3_256,
        payload=source.path,
        from_image=source.base is not None,
        image=MatterSummary.of_written(built),
        dcl_out=settings.dcl_out,
        dcl=dcl,
        payload_range=None if source.hex is None else f"0x{source.hex.start:08X}-0x{source.hex.end - 1:08X}",
        findings=(
            *_warnings(built.header),
            *(Finding.warning("hex-gap-fill", w) for w in (source.hex.warnings if source.hex else ())),
        ),
    )
