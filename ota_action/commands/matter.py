"""``matter``: settings in, a Matter OTA image out, streamed; optionally its DCL document.

Checks first, in the order a user fixes them: the applicable versions against the
software version, the output path, the payload (a regular file, its size from ``stat``),
then the header is planned (so an image the format cannot hold is refused before any
read).  The payload is read twice in chunks (digest, then copy) into a temporary file
renamed into place; the description comes from what was written.
"""

from __future__ import annotations

import os
import time

from ota_action.edges import files, log
from ota_action.errors import InputError
from ota_action.formats.matter.header import MatterHeader
from ota_action.formats.matter.image import plan_header, write_image
from ota_action.formats.zigbee.checks import Finding
from ota_action.publish.dcl import dcl_fields
from ota_action.results.matter import MatterResult, MatterSummary, dcl_document
from ota_action.settings.matter import MatterSettings


def _check_versions(settings: MatterSettings) -> None:
    """The specification's rule (and Commander's and connectedhomeip's): both applicable
    versions lie below the software version, and the minimum is not above the maximum."""
    version = settings.version
    for field, value in (("min_version", settings.min_version), ("max_version", settings.max_version)):
        if value is not None and value >= version:
            raise InputError(f"is {value}; it must be below --version ({version})", field=field)
    low, high = settings.min_version, settings.max_version
    if low is not None and high is not None and low > high:
        raise InputError(f"is {low}, above --max-version ({high})", field="min_version")


def _check_paths(settings: MatterSettings) -> None:
    if settings.ota_url is not None and settings.dcl_out is None:
        raise InputError("is the DCL otaUrl; it needs --dcl-out to be written to", field="ota_url")
    files.check_output_path(settings.outfile)
    if settings.dcl_out is not None:
        files.check_output_path(settings.dcl_out, field="dcl_out")
        if os.path.abspath(settings.dcl_out) == os.path.abspath(settings.outfile):
            raise InputError("is the same file as --outfile", field="dcl_out", value=str(settings.dcl_out))
    for out, field in ((settings.outfile, "outfile"), (settings.dcl_out, "dcl_out")):
        if out is not None and os.path.exists(out) and os.path.exists(settings.payload):  # noqa: SIM102
            if os.path.samefile(out, settings.payload):
                raise InputError(
                    "is the payload itself; write the image elsewhere", field=field, value=str(out)
                )


def _warnings(settings: MatterSettings) -> list[Finding]:
    """What ``verify`` would warn about in the image, said when it is built."""
    found = []
    url = settings.release_notes_url
    if url is not None and not url.startswith("https://"):
        found.append(
            Finding.warning("release-notes-not-https", "release notes URL does not start with https://")
        )
    if settings.digest.digest_size < 32:
        found.append(
            Finding.warning("digest-short", f"{settings.digest.label} digest is shorter than 256 bits")
        )
    return found


def run(settings: MatterSettings) -> MatterResult:
    started = time.perf_counter()
    _check_versions(settings)
    _check_paths(settings)
    size = files.input_size(settings.payload, field="payload")
    template = MatterHeader(
        vendor_id=settings.vendor_id,
        product_id=settings.product_id,
        software_version=settings.version,
        software_version_string=settings.version_string,
        payload_size=size,
        digest_type=int(settings.digest),
        digest=b"",
        min_applicable_version=settings.min_version,
        max_applicable_version=settings.max_version,
        release_notes_url=settings.release_notes_url,
    )
    try:
        planned = plan_header(template, settings.digest)
        with (
            files.open_input(settings.payload, field="payload") as payload,
            files.atomic_output(settings.outfile) as out,
        ):
            built = write_image(out, planned, payload)
    except InputError as exc:
        exc.field = exc.field or "payload"
        exc.value = exc.value or str(settings.payload)
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
        digest=settings.digest.label,
        seconds=round(time.perf_counter() - started, 4),
    )
    return MatterResult(
        outfile=settings.outfile,
        size=built.size,
        sha256=built.sha256,
        sha512=built.sha512,
        sha3_256=built.sha3_256,
        payload=settings.payload,
        image=MatterSummary.of_written(built),
        dcl_out=settings.dcl_out,
        dcl=dcl,
        findings=tuple(_warnings(settings)),
    )
