"""``inspect`` and ``verify``: read any OTA file, describe it, and judge it.

The file is never loaded: the header is read, the sub-elements are walked by seeks, and
one chunked pass computes the SHA-256 and every integrity variant.  At most 1000
sub-elements are listed; the description counts the rest.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import BinaryIO

from ota_action import files, log
from ota_action.commands import aes_backend
from ota_action.errors import FormatError, InputError
from ota_action.results import InspectResult, OtaSummary, VerifyResult
from ota_action.settings.zigbee import InspectSettings, VerifySettings
from ota_action.zigbee.checks import Finding, Level, check_image
from ota_action.zigbee.image import ParsedImage, parse_file


def _read(settings: InspectSettings | VerifySettings, f: BinaryIO, size: int) -> tuple[ParsedImage, str]:
    """The parsed file and its SHA-256 (computed in the same pass)."""
    try:
        parsed = parse_file(f, size, backend=aes_backend())
    except FormatError as exc:
        exc.field, exc.value = "image", str(settings.image)
        raise
    except OSError as exc:
        raise InputError(
            f"cannot be read: {exc.strerror}", field="image", value=str(settings.image)
        ) from None
    if parsed.sha256 is None:  # pragma: no cover - parse_file always hashes
        raise RuntimeError("parse_file returned no SHA-256")
    return parsed, parsed.sha256


def run_inspect(settings: InspectSettings) -> InspectResult:
    """Describe the file; problems are reported as warnings (same codes), inspect itself succeeds."""
    f = files.open_input(settings.image, field="image")
    size = os.fstat(f.fileno()).st_size
    with f:
        parsed, digest = _read(settings, f, size)
    findings = check_image(parsed)
    # Warnings first, then the errors demoted to warnings, as the message lists always were.
    ordered = [f for f in findings if f.level is Level.WARNING]
    ordered += [replace(f, level=Level.WARNING) for f in findings if f.level is Level.ERROR]
    result = InspectResult(
        file=settings.image, sha256=digest, ota=OtaSummary.of(parsed), findings=tuple(ordered)
    )
    log.get().info("inspect.read", file=str(settings.image), size=parsed.file_size)
    return result


def run_verify(settings: VerifySettings) -> VerifyResult:
    f = files.open_input(settings.image, field="image")
    size = os.fstat(f.fileno()).st_size
    signature = None
    with f:
        parsed, digest = _read(settings, f, size)
        findings = check_image(parsed)
        if settings.public_key is not None:
            from ota_action.commands.xbee_fs import signature_verdict

            signature, problems = signature_verdict(f, parsed, settings.public_key)
            findings += [Finding.error("signature", problem) for problem in problems]
    result = VerifyResult(
        file=settings.image,
        sha256=digest,
        ota=OtaSummary.of(parsed),
        signature=signature,
        findings=tuple(findings),
    )
    log.get().info(
        "verify.checked",
        file=str(settings.image),
        valid=result.ok,
        errors=len(result.errors),
        warnings=len(result.warnings),
    )
    return result
