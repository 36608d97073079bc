"""``zbota``: settings in, a Zigbee OTA file out, streamed and described from what was written.

Sizes first: every tag's length comes from ``stat``, its NULL length, or a streaming
parse of its .hex, .s37 or ELF, and :func:`~ota_action.formats.zigbee.image.plan_image` refuses a file the
format cannot hold before any data is read.  Then the file is streamed to a temporary
file and renamed into place; the description comes from the writer, not a re-parse.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ota_action.commands import aes_backend, firmware_files
from ota_action.commands.upgrade_image import prepare_elements
from ota_action.edges import files, log, published, same_file
from ota_action.errors import InputError
from ota_action.formats.firmware.kinds import FirmwareKind
from ota_action.formats.zigbee.elements import (
    IMAGE_INTEGRITY_CODE,
    PADDING,
    UPGRADE_IMAGE,
    check_writable_tags,
)
from ota_action.formats.zigbee.findings import Finding
from ota_action.formats.zigbee.header import OtaHeader
from ota_action.formats.zigbee.image import FillSource, Source, plan_image, write_image
from ota_action.formats.zigbee.integrity import IntegrityVariant
from ota_action.formats.zigbee.sources import BytesSource
from ota_action.options.rules import gbl_options_given
from ota_action.options.zigbee_rules import VARIANT_DEVICES, chosen_header_string
from ota_action.records import replace
from ota_action.results import OtaSummary, ZbotaResult
from ota_action.secret import NO_SECRETS, KeyMaterial
from ota_action.values import TagSpec

if TYPE_CHECKING:
    from ota_action.commands import key_sources
    from ota_action.commands.gbl import BuiltGbl
    from ota_action.settings.zigbee import ZbotaSettings


def _is_firmware_text(spec: TagSpec) -> bool:
    """Whether a tag's file is Intel HEX, S-record or ELF (by content and name), not raw bytes."""
    if spec.path is None:
        return False
    return firmware_files.file_kind(spec.path, field="tags") is not FirmwareKind.BINARY


def _element(spec: TagSpec, fill: int, warnings: list[str]) -> tuple[Source, dict[str, str]]:
    """The data source a tag spec stands for, and how to describe it.

    A file is sniffed, whatever its name: Intel HEX, S-record and ELF are converted to
    their binary image (never embedded as text), and a name that contradicts the
    content (HEX text named ``.bin``) is an error naming both.
    """
    if spec.path is None:
        length = spec.length or 0
        return FillSource(length, fill), {"source": f"NULL data ({length} x 0x{fill:02X})"}
    image = firmware_files.converted_image(spec.path, fill=fill, field="tags")
    if image is not None:
        warnings.extend(image.warnings)
        return image, {
            "source": str(spec.path),
            "address_range": f"0x{image.start:08X}-0x{image.end - 1:08X}",
        }
    return firmware_files.raw_file_source(spec.path, field="tags"), {"source": str(spec.path)}


def _with_sources(summary: OtaSummary, sources: list[dict[str, str]], align: int | None) -> OtaSummary:
    """Say where each sub-element came from.  0xFFFF and 0x0003 are refused as user tags,
    so any in the output are ours."""
    given = iter(sources)
    rows = []
    for row in summary.sub_elements:
        if row.tag == PADDING:
            rows.append(replace(row, source=f"padding to align the upgrade image on {align} bytes"))
        elif row.tag == IMAGE_INTEGRITY_CODE:
            rows.append(replace(row, source="AES-MMO integrity code"))
        else:
            source = next(given)
            rows.append(replace(row, source=source["source"], address_range=source.get("address_range")))
    return summary.with_sources(tuple(rows))


def _variant_warnings(settings: ZbotaSettings) -> list[Finding]:
    variant = settings.integrity_variant
    if variant is IntegrityVariant.STANDARD:
        return []
    if not settings.integrity:
        raise InputError(
            "chooses how the integrity code is computed; it needs --integrity", field="integrity_variant"
        )
    return [
        Finding.warning(
            "integrity-variant",
            f"integrity code written in the non-standard variant {variant.value}, which only "
            f"{VARIANT_DEVICES[variant]} devices expect; other devices reject the file",
        )
    ]


def key_material(settings: ZbotaSettings, environ: Mapping[str, str], given: KeyMaterial) -> KeyMaterial:
    """The signing secrets, only for ``--gbl --sign`` (no other zbota run signs), and with
    ``--gbl`` the AES key ``--encrypt-key-env`` names (the door masks it before the run)."""
    if not (settings.gbl and settings.sign):
        handed = [s for s in given.secrets() if s.named_by_field]  # an Action input, not a variable
        if handed:
            raise InputError(
                "is not used by command zbota unless gbl and sign are true: zbota signs only the "
                "GBL it builds; remove the input",
                field=handed[0].field,
            )
        material = NO_SECRETS
    else:
        from ota_action.commands import key_sources

        material = key_sources.key_material(settings, environ, given)
    if not settings.gbl or settings.encrypt_key_env is None:
        return material
    from ota_action.commands import gbl  # with pygbl: --gbl only

    return gbl.with_encryption(material, settings, environ)


def _gbl_image(
    settings: ZbotaSettings, secrets: KeyMaterial, signer: key_sources.OpenedSigner | None
) -> tuple[TagSpec, BuiltGbl] | None:
    """With ``--gbl``, the upgrade image's file built into a GBL3 (checked, signature
    verified) by ``gbl``'s own builder; the GBL options without ``--gbl`` are refused."""
    if not settings.gbl:
        given = gbl_options_given(settings)
        if given:
            raise InputError("makes a GBL; give --gbl to build the upgrade image into one", field=given[0])
        return None
    from ota_action.commands import gbl as gbl_command  # with pygbl and the key sources: --gbl only

    specs = [t for t in settings.tags if t.tag == UPGRADE_IMAGE]
    if len(specs) != 1 or specs[0].path is None:
        raise InputError(
            "needs exactly one upgrade image file (tag 0x0000) to build the GBL from", field="gbl"
        )
    if settings.prepare is not None:
        raise InputError("applies to a Telink image; a GBL is built with --gbl instead", field="prepare")
    return specs[0], gbl_command.build(settings, specs[0].path, secrets, field="tags", signer=signer)


def _gbl_described(spec: TagSpec, built: BuiltGbl, settings: ZbotaSettings) -> dict[str, str]:
    kinds = [
        *(["signed, key fingerprint " + built.fingerprint] if built.fingerprint else []),
        *(["encrypted"] if built.encrypted else []),
        *([f"{settings.compress.value}-compressed"] if settings.compress is not None else []),
    ]
    how = f" ({', '.join(kinds)})" if kinds else ""
    return {
        "source": f"GBL3 built from {spec.path}{how}",
        "address_range": f"0x{built.address:08X}-0x{built.address + built.image_size - 1:08X}",
    }


def _header(settings: ZbotaSettings) -> OtaHeader:
    """The header the options give (a version from the payload is set once it is read)."""
    return OtaHeader.create(
        manufacturer_code=settings.mfg_id,
        image_type=settings.image_type,
        file_version=settings.version if isinstance(settings.version, int) else 0,
        header_string=chosen_header_string(settings.string, settings.string_hex) or b"",
        zigbee_stack_version=settings.stack_version,
        security_credential_version=settings.credentials,
        upgrade_file_destination=settings.dest_eui64,
        minimum_hardware_version=settings.min_hwv,
        maximum_hardware_version=settings.max_hwv,
    )


def run(
    settings: ZbotaSettings,
    secrets: KeyMaterial = NO_SECRETS,
    *,
    signer: key_sources.OpenedSigner | None = None,
) -> ZbotaResult:
    """``signer``: an opened key source for ``--gbl --sign`` (``build`` shares one between
    its images) instead of the one ``settings`` and ``secrets`` name."""
    logger = log.get()
    started = time.perf_counter()
    files.check_output_path(settings.outfile)
    same_file.refuse_overwrite(settings.outfile, (t.path for t in settings.tags if t.path is not None))
    check_writable_tags(
        (t.tag for t in settings.tags),
        allow_reserved=settings.allow_reserved_tag,
        allow_duplicate=settings.allow_duplicate_tag,
    )
    gbl = _gbl_image(settings, secrets, signer)  # before any OTA byte: a wrong key writes nothing
    variant_findings = _variant_warnings(settings)
    backend = aes_backend() if settings.integrity else None
    header = _header(settings)
    plan_options: dict[str, Any] = {
        "integrity": settings.integrity,
        "align": settings.align,
        "fill": settings.fill,
        "variant": settings.integrity_variant,
    }
    warnings: list[str] = []

    # Sizes first: the NULL tags and plain files alone may already be too much; refuse
    # that before parsing any .hex, .s37 or ELF (whose length is known only after a parse).
    def element(spec: TagSpec) -> tuple[Source, dict[str, str]]:
        if gbl is not None and spec is gbl[0]:
            return BytesSource(gbl[1].data), _gbl_described(spec, gbl[1], settings)
        return _element(spec, settings.fill, warnings)

    known = [(s.tag, FillSource(0) if _is_firmware_text(s) else element(s)[0]) for s in settings.tags]
    plan_image(header, known, **plan_options)
    elements, sources = [], []
    for spec in settings.tags:
        source, described = element(spec)
        elements.append((spec.tag, source))
        sources.append(described)
    elements, version = prepare_elements(settings, elements)  # --prepare, -v payload, nested OTA
    plan = plan_image(header._replace(file_version=version), elements, **plan_options)
    with files.atomic_output(settings.outfile) as out:
        built = write_image(
            plan,
            out,
            backend=backend,
            crc_trailer=settings.crc_trailer,
            index_digests=published.INDEX_DIGESTS.get(),  # the Action's outputs name them
        )
    written = time.perf_counter()
    summary = _with_sources(OtaSummary.of(built.parsed()), sources, settings.align)
    logger.info(
        "zbota.written",
        outfile=str(settings.outfile),
        size=built.size,
        sha256=built.sha256,
        sub_elements=summary.sub_elements_total,
        integrity=None if summary.integrity.stored is None else summary.integrity.stored.hex(),
        seconds=round(written - started, 4),
    )
    return ZbotaResult(
        outfile=settings.outfile,
        size=built.size,
        sha256=built.sha256,
        sha512=built.sha512,
        sha3_256=built.sha3_256,
        ota=summary,
        findings=(*variant_findings, *(Finding.warning("hex-gap-fill", w) for w in warnings)),
    )
