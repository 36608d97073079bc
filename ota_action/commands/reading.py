"""Read one file the way ``inspect`` and ``verify`` do: container, OTA file, layout, trailer, payloads.

The one place the vendor recognisers are wired together, for a single file and for
every file of a batch alike:

1. :func:`~ota_action.formats.zigbee.containers.find_container` on the file as given; when it
   names a container, everything below works on the inner file (a
   :class:`~ota_action.formats.zigbee.streams.FileSlice`, offsets relative to it);
2. :func:`~ota_action.formats.zigbee.image.parse_file` (header, standard walk, integrity code,
   SHA-256 of what it reads);
3. :func:`~ota_action.formats.zigbee.layouts.detect_layout` when the standard walk failed;
4. :func:`~ota_action.formats.zigbee.trailers.find_trailer` for bytes after the total image size;
5. :func:`~ota_action.formats.zigbee.payload.identify_payload` for each upgrade image the layout
   names (each 0x0000, Telink's 0xF000 data, Hue's raw image);
6. :func:`~ota_action.formats.zigbee.checks.check_image` with all of it.

The SHA-256 reported is always that of the file as given (for a container, of the
whole container, computed in a pass of its own).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ota_action.edges import files
from ota_action.errors import FormatError, InputError
from ota_action.formats.zigbee.aes import Backend
from ota_action.formats.zigbee.checks import Finding, check_image
from ota_action.formats.zigbee.containers import find_container
from ota_action.formats.zigbee.elements import ELEMENTS_LISTED
from ota_action.formats.zigbee.header import MAGIC
from ota_action.formats.zigbee.layouts import STANDARD, detect_layout
from ota_action.formats.zigbee.parsed import ParsedImage, parse_file
from ota_action.formats.zigbee.payload import identify_payload
from ota_action.formats.zigbee.streams import chunks
from ota_action.formats.zigbee.trailers import find_trailer
from ota_action.records import record, replace
from ota_action.results.ota import VendorFacts
from ota_action.results.summary import OtaSummary

if TYPE_CHECKING:
    from ota_action.commands.signatures import NamedKey


class NotAnOtaFile(FormatError):
    """The file neither starts with the OTA magic number nor is a known container: in a
    folder walk it is skipped (a payload ``app.bin`` beside the ``.zigbee`` files), named
    explicitly it is an invalid file (exit 1)."""


@record
class FileReport:
    """Everything read from one file: what the results show and the rules' findings.

    ``parsed`` describes the OTA file itself (a container's inner file); ``size`` and
    ``sha256`` the file as given.  ``signature`` is the ``--public-key`` verdict, if asked.
    """

    path: Path
    size: int
    sha256: str
    parsed: ParsedImage
    ota: OtaSummary
    vendor: VendorFacts
    findings: tuple[Finding, ...]
    signature: str | None = None


def _whole_sha256(f: BinaryIO, size: int) -> str:
    digest = hashlib.sha256()
    for piece in chunks(f, 0, size):
        digest.update(piece)
    return digest.hexdigest()


def _starts_with_magic(f: BinaryIO) -> bool:
    f.seek(0)
    return f.read(4) == MAGIC.to_bytes(4, "little")


def analyse_file(
    path: Path,
    *,
    backend: Backend,
    field: str = "image",
    public_key: Sequence[NamedKey] | None = None,
    found: bool = False,
    opened: BinaryIO | None = None,
) -> FileReport:
    """Read, recognise and check ``path``.

    Raises :class:`InputError` (exit 2) when the path cannot be used (missing, not a
    regular file, unreadable, outside the workspace) and :class:`FormatError` (exit 1)
    when it is neither an OTA file nor a container holding one (:class:`NotAnOtaFile`);
    both name ``field``.  ``found``: the path came from a folder walk or a glob (its
    spelling is never judged).  ``opened``: ``path`` as the caller already opened it
    with :func:`ota_action.edges.files.open_input` (it stays the caller's to close).
    """
    if opened is not None:
        return _analyse_open(path, opened, backend=backend, field=field, public_key=public_key)
    with files.open_input(path, field=field, found=found) as f:
        return _analyse_open(path, f, backend=backend, field=field, public_key=public_key)


def _analyse_open(
    path: Path, f: BinaryIO, *, backend: Backend, field: str, public_key: Sequence[NamedKey] | None
) -> FileReport:
    try:
        size = os.fstat(f.fileno()).st_size
        return _analyse(path, f, size, backend=backend, public_key=public_key)
    except FormatError as exc:
        exc.field, exc.value = field, str(path)
        raise
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}", field=field, value=str(path)) from None


def _analyse(
    path: Path, outer: BinaryIO, outer_size: int, *, backend: Backend, public_key: Sequence[NamedKey] | None
) -> FileReport:
    container = find_container(outer, outer_size)
    f: BinaryIO = container.open(outer) if container else outer
    size = container.length if container else outer_size
    try:
        parsed = parse_file(f, size, backend=backend)
    except FormatError as exc:
        if container is None and not _starts_with_magic(outer):
            raise NotAnOtaFile(exc.message) from None
        raise
    if parsed.sha256 is None:  # pragma: no cover - parse_file always hashes
        raise RuntimeError("parse_file returned no SHA-256")
    sha256 = parsed.sha256 if container is None else _whole_sha256(outer, outer_size)
    header = parsed.header
    layout = detect_layout(f, header, parsed.elements, parsed.walk_problem, size)
    trailer = find_trailer(f, header.total_image_size, size, manufacturer_code=header.manufacturer_code)
    payloads = tuple(identify_payload(f, offset, length) for offset, length in layout.payloads)
    findings = check_image(parsed, layout=layout, container=container, trailer=trailer, payloads=payloads)
    signature = None
    if public_key is not None:
        from ota_action.commands.signatures import upgrade_image_verdict

        signature, problems = upgrade_image_verdict(f, parsed, payloads, public_key)
        findings += [Finding.error("signature", problem) for problem in problems]
    ota = OtaSummary.of(parsed)
    if layout.name != STANDARD:
        listed = layout.elements[:ELEMENTS_LISTED]
        ota = replace(
            ota.with_elements(listed),
            elements_total=len(layout.elements),
        )
    vendor = VendorFacts(layout=layout.name, container=container, trailer=trailer, payloads=payloads)
    return FileReport(
        path=path,
        size=outer_size,
        sha256=sha256,
        parsed=parsed,
        ota=ota,
        vendor=vendor,
        findings=tuple(findings),
        signature=signature,
    )
