"""``inspect`` and ``verify``: read any OTA file, describe it, and judge it."""

from __future__ import annotations

from ota_action import files, log
from ota_action.errors import FormatError
from ota_action.report import Report
from ota_action.settings.zigbee import InspectSettings, VerifySettings
from ota_action.zigbee.checks import Level, check_image
from ota_action.zigbee.image import ParsedImage, describe, parse_image


def _read(settings: InspectSettings | VerifySettings, command: str) -> tuple[bytes, ParsedImage, Report]:
    data = files.read_input(settings.image, field="image")
    try:
        parsed = parse_image(data)
    except FormatError as exc:
        exc.field, exc.value = "image", str(settings.image)
        raise
    description = describe(parsed)
    report = Report(
        command,
        {"file": str(settings.image), "sha256": files.sha256_hex(data), **description},
    )
    for finding in check_image(parsed):
        (report.errors if finding.level is Level.ERROR else report.warnings).append(finding.message)
    return data, parsed, report


def run_inspect(settings: InspectSettings) -> Report:
    """Describe the file; problems are reported as warnings, inspect itself succeeds."""
    _, _, report = _read(settings, "inspect")
    report.warnings += report.errors
    report.errors = []
    log.get().info("inspect.read", file=str(settings.image), size=report.data["file_size"])
    return report


def run_verify(settings: VerifySettings) -> Report:
    data, parsed, report = _read(settings, "verify")
    if settings.public_key is not None:
        from ota_action.commands.xbee_fs import signature_verdict

        verdict, problems = signature_verdict(data, parsed, settings.public_key)
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
