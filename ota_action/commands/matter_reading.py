"""Read a Matter OTA image for ``inspect`` and ``verify`` (alone or in a batch).

:func:`read_matter` is what those commands call for a file whose first four bytes are
the Matter file identifier 0x1BEEF11E (:mod:`ota_action.commands.inspect` looks before
importing this module); it opens the file as every reader does (a regular file, checked
before opening) and returns None when it is not a Matter image after all.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ota_action.edges import files
from ota_action.errors import FormatError, InputError
from ota_action.formats.matter.checks import check_matter
from ota_action.formats.matter.header import is_matter
from ota_action.formats.matter.image import ParsedMatter, parse_image
from ota_action.formats.zigbee.checks import Finding, Level
from ota_action.formats.zigbee.payload import Payload, identify_payload
from ota_action.publish.dcl import dcl_fields
from ota_action.results.matter import MatterInspectResult, MatterSummary, MatterVerifyResult

if TYPE_CHECKING:
    from ota_action.commands.signatures import NamedKey


def _parse(path: Path, field: str, found: bool = False) -> tuple[ParsedMatter, Payload] | None:
    """The image and what its payload is (a GBL, an EBL, an MCUboot image... with the
    Zigbee reader's recognisers); None when the file is not a Matter image."""
    with files.open_input(path, field=field, found=found) as f:
        try:
            if not is_matter(f.read(4)):
                return None
            image = parse_image(f, os.fstat(f.fileno()).st_size)
            present = max(0, min(image.header.payload_size, image.file_size - image.payload_offset))
            return image, identify_payload(f, image.payload_offset, present)
        except FormatError as exc:
            exc.field, exc.value = field, str(path)
            raise
        except OSError as exc:
            raise InputError(f"cannot be read: {exc.strerror}", field=field, value=str(path)) from None


def is_matter_file(path: Path, *, field: str) -> bool:
    """Whether ``path`` starts with the Matter file identifier (opened as every reader opens)."""
    with files.open_input(path, field=field) as f:
        try:
            return is_matter(f.read(4))
        except OSError as exc:
            raise InputError(f"cannot be read: {exc.strerror}", field=field, value=str(path)) from None


def read_matter_image(path: Path, *, field: str) -> ParsedMatter:
    """The Matter OTA image at ``path``; a FormatError naming ``field`` when it is not one."""
    parsed = _parse(path, field)
    if parsed is None:
        raise FormatError(
            "is not a Matter OTA image (no file identifier 0x1BEEF11E)", field=field, value=str(path)
        )
    return parsed[0]


def _payload_findings(payload: Payload) -> list[Finding]:
    """A payload with a check of its own that fails (a GBL's CRC), with the Zigbee codes."""
    if payload.valid is not False:
        return []
    stored, computed = payload.details.get("crc32_stored"), payload.details.get("crc32_computed")
    code = "payload-crc" if stored is not None and stored != computed else "payload-structure"
    return [Finding.error(code, f"the payload at offset {payload.offset}: {payload.problem}")]


def _as_warnings(findings: list[Finding]) -> tuple[Finding, ...]:
    """inspect never fails a file: its errors are shown as warnings, same codes, last."""
    kept = [f for f in findings if f.level is not Level.ERROR]
    return (*kept, *(f._replace(level=Level.WARNING) for f in findings if f.level is Level.ERROR))


def read_matter(
    path: Path,
    *,
    field: str,
    verify: bool,
    public_keys: Sequence[NamedKey] | None = None,
    found: bool = False,
) -> MatterInspectResult | None:
    """The result for a Matter OTA image at ``path``; None when it is not one.

    ``verify --public-key`` checks an XBee3 file-system signature; a Matter image has no
    such signature, so asking for one fails the file rather than passing it unchecked.
    ``found``: the path came from a folder walk or a glob (its spelling is never judged).
    """
    parsed = _parse(path, field, found)
    if parsed is None:
        return None
    image, payload = parsed
    findings = [*check_matter(image), *_payload_findings(payload)]
    if public_keys is not None:
        findings.append(
            Finding.error("signature", "a Matter OTA image holds no signature for --public-key to check")
        )
    dcl = dcl_fields(image.header, file_size=image.file_size, sha256_hex=image.sha256, ota_url=None)
    summary = MatterSummary.of_parsed(image)
    kind = MatterVerifyResult if verify else MatterInspectResult  # inspect: problems are warnings
    return kind(
        file=path,
        size=image.file_size,
        sha256=image.sha256,
        image=summary,
        dcl=dcl,
        payload=payload,
        findings=tuple(findings) if verify else _as_warnings(findings),
    )
