"""``inspect`` and ``verify``: read any OTA file, describe it, and judge it."""

from __future__ import annotations

from dataclasses import replace

from ota_action import files, log
from ota_action.errors import FormatError
from ota_action.results import InspectResult, OtaSummary, VerifyResult
from ota_action.settings.zigbee import InspectSettings, VerifySettings
from ota_action.zigbee.checks import Finding, Level, check_image
from ota_action.zigbee.image import ParsedImage, parse_image


def _read(settings: InspectSettings | VerifySettings) -> tuple[bytes, ParsedImage, str]:
    data = files.read_input(settings.image, field="image")
    try:
        parsed = parse_image(data)
    except FormatError as exc:
        exc.field, exc.value = "image", str(settings.image)
        raise
    return data, parsed, files.sha256_hex(data)


def run_inspect(settings: InspectSettings) -> InspectResult:
    """Describe the file; problems are reported as warnings (same codes), inspect itself succeeds."""
    _, parsed, digest = _read(settings)
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
    data, parsed, digest = _read(settings)
    findings = check_image(parsed)
    signature = None
    if settings.public_key is not None:
        from ota_action.commands.xbee_fs import signature_verdict

        signature, problems = signature_verdict(data, parsed, settings.public_key)
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
