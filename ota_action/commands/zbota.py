"""``zbota``: settings in, a Zigbee OTA file out, described by parsing what was written."""

from __future__ import annotations

import os
import time

from ota_action import files, log
from ota_action.report import Report
from ota_action.settings.zigbee import ZbotaSettings
from ota_action.values import TagSpec
from ota_action.zigbee.elements import IMAGE_INTEGRITY_CODE, PADDING, SubElement, check_writable_tags
from ota_action.zigbee.header import OtaHeader
from ota_action.zigbee.image import build_image, describe, parse_image


def _element(spec: TagSpec, fill: int) -> tuple[SubElement, dict[str, str]]:
    """The sub-element a tag spec stands for, and how to describe its source."""
    if spec.path is None:
        length = spec.length or 0
        return SubElement(spec.tag, bytes([fill]) * length), {
            "source": f"NULL data ({length} x 0x{fill:02X})"
        }
    if spec.path.suffix.lower() == ".hex" and os.path.isfile(spec.path):  # never raises
        from ota_action.hexfile import hex_to_image

        image = hex_to_image(spec.path, fill=fill, field="tags")
        return SubElement(spec.tag, image.data), {
            "source": str(spec.path),
            "address_range": f"0x{image.start:08X}-0x{image.end - 1:08X}",
        }
    data = files.read_input(spec.path, field="tags")
    return SubElement(spec.tag, data), {"source": str(spec.path)}


def run(settings: ZbotaSettings) -> Report:
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
    description = describe(parse_image(data, built_here=True))
    # 0xFFFF and 0x0003 are refused as user tags, so any in the output are ours.
    given = iter(sources)
    for entry in description["sub_elements"]:
        if entry["tag"] == PADDING:
            entry["source"] = f"padding to align the upgrade image on {settings.align} bytes"
        elif entry["tag"] == IMAGE_INTEGRITY_CODE:
            entry["source"] = "AES-MMO integrity code"
        else:
            entry.update(next(given))
    files.write_atomic(settings.outfile, data)
    digest = files.sha256_hex(data)
    logger.info(
        "zbota.written",
        outfile=str(settings.outfile),
        size=len(data),
        sha256=digest,
        sub_elements=len(description["sub_elements"]),
        integrity=description["integrity"]["stored"],
        seconds=round(built - started, 4),
    )
    return Report(
        "zbota",
        {"outfile": str(settings.outfile), "size": len(data), "sha256": digest, **description},
        outfile=settings.outfile,
    )
