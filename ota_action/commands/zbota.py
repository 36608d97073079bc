"""``zbota``: settings in, a Zigbee OTA file out, described by parsing what was written."""

from __future__ import annotations

import time
from dataclasses import replace

from ota_action import files, log
from ota_action.results import OtaSummary, ZbotaResult
from ota_action.settings.zigbee import ZbotaSettings
from ota_action.values import TagSpec
from ota_action.zigbee.elements import IMAGE_INTEGRITY_CODE, PADDING, SubElement, check_writable_tags
from ota_action.zigbee.header import OtaHeader
from ota_action.zigbee.image import build_image, parse_image


def _element(spec: TagSpec, fill: int) -> tuple[SubElement, dict[str, str]]:
    """The sub-element a tag spec stands for, and how to describe its source."""
    if spec.path is None:
        length = spec.length or 0
        return SubElement(spec.tag, bytes([fill]) * length), {
            "source": f"NULL data ({length} x 0x{fill:02X})"
        }
    if spec.path.suffix.lower() == ".hex" and spec.path.is_file():
        from ota_action.hexfile import hex_to_image

        image = hex_to_image(spec.path, fill=fill, field="tags")
        return SubElement(spec.tag, image.data), {
            "source": str(spec.path),
            "address_range": f"0x{image.start:08X}-0x{image.end - 1:08X}",
        }
    data = files.read_input(spec.path, field="tags")
    return SubElement(spec.tag, data), {"source": str(spec.path)}


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


def run(settings: ZbotaSettings) -> ZbotaResult:
    logger = log.get()
    started = time.perf_counter()
    files.check_output_path(settings.outfile)
    check_writable_tags((t.tag for t in settings.tags), allow_reserved=settings.allow_reserved_tag)
    header = OtaHeader.create(
        manufacturer_code=settings.mfg_id,
        image_type=settings.image_type,
        file_version=settings.version,
        header_string=(settings.string or "").encode("ascii"),
        zigbee_stack_version=settings.stack_version,
        security_credential_version=settings.credentials,
        upgrade_file_destination=settings.dest_eui64,
        minimum_hardware_version=settings.min_hwv,
        maximum_hardware_version=settings.max_hwv,
    )
    elements, sources = [], []
    for spec in settings.tags:
        element, source = _element(spec, settings.fill)
        elements.append(element)
        sources.append(source)
    data = build_image(
        header, elements, integrity=settings.integrity, align=settings.align, fill=settings.fill
    )
    built = time.perf_counter()
    summary = _with_sources(OtaSummary.of(parse_image(data, built_here=True)), sources, settings.align)
    files.write_atomic(settings.outfile, data)
    digest = files.sha256_hex(data)
    logger.info(
        "zbota.written",
        outfile=str(settings.outfile),
        size=len(data),
        sha256=digest,
        sub_elements=len(summary.sub_elements),
        integrity=None if summary.integrity.stored is None else summary.integrity.stored.hex(),
        seconds=round(built - started, 4),
    )
    return ZbotaResult(outfile=settings.outfile, size=len(data), sha256=digest, ota=summary)
