"""``inspect`` and ``verify``: read any OTA file, describe it, and judge it.

The file is never loaded: the header comes from its first 64 KiB (so a 5 GiB file that
is not an OTA file is refused at once), sub-elements are walked by seeks, and one pass
in chunks computes the SHA-256 and the integrity variants.  At most 1000 sub-elements
are listed; the description counts the rest.
"""

from __future__ import annotations

from typing import BinaryIO

from ota_action import files, log
from ota_action.commands import aes_backend
from ota_action.errors import FormatError, InputError
from ota_action.report import Report
from ota_action.settings.zigbee import InspectSettings, VerifySettings
from ota_action.zigbee.checks import Level, check_image
from ota_action.zigbee.image import ParsedImage, describe, parse_file


def _read(
    settings: InspectSettings | VerifySettings, command: str, f: BinaryIO, size: int
) -> tuple[ParsedImage, Report]:
    try:
        parsed = parse_file(f, size, backend=aes_backend())
    except FormatError as exc:
        exc.field, exc.value = "image", str(settings.image)
        raise
    except OSError as exc:
        raise InputError(
            f"cannot be read: {exc.strerror}", field="image", value=str(settings.image)
        ) from None
    description = describe(parsed)
    report = Report(
        command,
        {"file": str(settings.image), "sha256": parsed.sha256, **description},
    )
    for finding in check_image(parsed):
        (report.errors if finding.level is Level.ERROR else report.warnings).append(finding.message)
    return parsed, report


def run_inspect(settings: InspectSettings) -> Report:
    """Describe the file; problems are reported as warnings, inspect itself succeeds."""
    f, size = files.open_input(settings.image, field="image")
    with f:
        _, report = _read(settings, "inspect", f, size)
    report.warnings += report.errors
    report.errors = []
    log.get().info("inspect.read", file=str(settings.image), size=report.data["file_size"])
    return report


def run_verify(settings: VerifySettings) -> Report:
    f, size = files.open_input(settings.image, field="image")
    with f:
        parsed, report = _read(settings, "verify", f, size)
        if settings.public_key is not None:
            from ota_action.commands.xbee_fs import signature_verdict

            verdict, problems = signature_verdict(f, parsed, settings.public_key)
            report.data["signature"] = verdict
            report.errors += problems
    report.ok = not report.errors
    report.data["valid"] = report.ok
    log.get().info(
        "verify.checked",
        file=str(settings.image),
        valid=report.ok,
        errors=len(report.errors),
        warnings=len(report.warnings),
    )
    return report
