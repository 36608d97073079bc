"""``rewrap``: change header values of an existing OTA file and keep every sub-element.

The input is read with :func:`~ota_action.formats.zigbee.rewrap.plan_rewrap` (a parse that
finds the integrity variant the input used) and streamed to a temporary output by
:func:`~ota_action.formats.zigbee.rewrap.write_rewrap`, which recomputes the integrity code in
that variant as the bytes go out and renames the file into place.  An XBee3
file-system signature covers only the image inside the 0x0000 element, so a new header
keeps it valid; with ``--public-key`` it is checked on the input before anything is
written and on the output after.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ota_action.commands import aes_backend
from ota_action.edges import files, log, same_file
from ota_action.errors import FormatError, InputError
from ota_action.formats.zigbee.aes import Backend
from ota_action.formats.zigbee.checks import Finding
from ota_action.formats.zigbee.containers import find_container
from ota_action.formats.zigbee.image import parse_file
from ota_action.formats.zigbee.rewrap import HeaderChanges, plan_rewrap, write_rewrap
from ota_action.options.zigbee_rules import chosen_header_string
from ota_action.results.fleet import RewrapResult
from ota_action.results.summary import OtaSummary

if TYPE_CHECKING:
    from ota_action.settings.fleet import RewrapSettings


def changes_of(settings: RewrapSettings) -> HeaderChanges:
    return HeaderChanges(
        file_version=settings.version,
        header_string=chosen_header_string(settings.string, settings.string_hex),
        manufacturer_code=settings.mfg_id,
        image_type=settings.image_type,
        zigbee_stack_version=settings.stack_version,
        minimum_hardware_version=settings.min_hwv,
        maximum_hardware_version=settings.max_hwv,
        security_credential_version=settings.credentials,
        upgrade_file_destination=settings.dest_eui64,
    )


def _signature(path: Path, public_key: Path, *, field: str, backend: Backend) -> str:
    """The XBee signature verdict of ``path``; an invalid one is an InputError naming ``field``."""
    from ota_action.commands.xbee_fs import signature_verdict

    with files.open_input(path, field=field) as f:
        parsed = parse_file(f, os.fstat(f.fileno()).st_size, backend=backend)
        verdict, problems = signature_verdict(f, parsed, public_key)
    if problems:
        raise InputError(f"XBee file-system signature: {problems[0]}", field=field, value=str(path))
    return verdict


def run(settings: RewrapSettings) -> RewrapResult:
    changes = changes_of(settings)
    files.check_output_path(settings.outfile)
    if settings.public_key is not None:  # IN -o IN is rewrap's job; the key is not an output
        same_file.refuse_overwrite(settings.outfile, [settings.public_key])
    backend = aes_backend()
    signature = None
    if settings.public_key is not None:
        _signature(settings.image, settings.public_key, field="image", backend=backend)
    with files.open_input(settings.image, field="image") as src:
        size = os.fstat(src.fileno()).st_size
        try:
            container = find_container(src, size)
            if container is not None:
                raise InputError(
                    f"is an OTA file inside a vendor container ({container.kind}), whose own signature or "
                    f"checks a new header would break; `ota-action extract` writes the inner file "
                    f"as payload.ota",
                    field="image",
                    value=str(settings.image),
                )
            plan = plan_rewrap(
                src,
                size,
                changes,
                drop_signatures=settings.drop_signatures,
                integrity_variant=settings.integrity_variant,
                backend=backend,
            )
        except FormatError as exc:
            exc.field, exc.value = "image", str(settings.image)
            raise
        with files.atomic_output(settings.outfile) as out:
            written = write_rewrap(plan, src, out, backend=backend)
    if settings.public_key is not None:
        signature = _signature(settings.outfile, settings.public_key, field="outfile", backend=backend)
    with files.open_input(settings.outfile, field="outfile") as f:
        parsed = parse_file(f, os.fstat(f.fileno()).st_size, backend=backend)
    findings = [Finding.warning("rewrap", w) for w in plan.warnings]
    if parsed.sha256 != written.sha256:  # pragma: no cover - the file changed under us
        raise InputError("changed after it was written", field="outfile", value=str(settings.outfile))
    source = plan.source
    log.get().info("rewrap.written", outfile=str(settings.outfile), size=written.size, sha256=written.sha256)
    return RewrapResult(
        image=settings.image,
        outfile=settings.outfile,
        size=written.size,
        sha256=written.sha256,
        sha512=written.sha512,
        sha3_256=written.sha3_256,
        old_version=None if source is None else source.header.file_version,
        integrity_variant=None if plan.integrity is None else plan.integrity.value,
        dropped=tuple(f"0x{e.tag:04X}" for e in plan.dropped),
        crc_trailer=plan.crc_trailer,
        signature=signature,
        ota=OtaSummary.of(parsed),
        findings=tuple(findings),
    )
