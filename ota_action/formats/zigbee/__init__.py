"""The Zigbee OTA file format, pure: bytes in, values out (ZigBee 095264r23).

Library users and the commands import from here::

    from ota_action.formats.zigbee import OtaHeader, SubElement, build_image, parse_image, check_image

Nothing in this package imports pydantic, structlog, argparse or GitHub code, or reads
the environment; errors are :class:`ota_action.errors.FormatError` (a file is not what it
claims) and :class:`ota_action.errors.InputError` (a value cannot be written).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ota_action.lazy import lazy_names

if TYPE_CHECKING:
    from ota_action.formats.zigbee.checks import Finding, Level, check_image
    from ota_action.formats.zigbee.elements import (
        ElementRef,
        SubElement,
        Tag,
        check_writable_tags,
        tag_name,
    )
    from ota_action.formats.zigbee.header import (
        FieldControl,
        OtaHeader,
        decode_header,
        encode_header,
        header_size,
    )
    from ota_action.formats.zigbee.image import IntegrityResult, ParsedImage, build_image, parse_image
    from ota_action.formats.zigbee.integrity import IntegrityVariant, aes_mmo, integrity_code

# Each name is imported from its module when first asked for: importing one module of
# the package (zbota's integrity variants) does not load the checks, layouts and
# payload readers that only verify needs (docs/speed.md).
_HOMES = {
    "checks": ("Finding", "Level", "check_image"),
    "elements": ("ElementRef", "SubElement", "Tag", "check_writable_tags", "tag_name"),
    "header": ("FieldControl", "OtaHeader", "decode_header", "encode_header", "header_size"),
    "image": ("IntegrityResult", "ParsedImage", "build_image", "parse_image"),
    "integrity": ("IntegrityVariant", "aes_mmo", "integrity_code"),
}
__getattr__ = lazy_names(__name__, _HOMES, globals())


__all__ = [
    "ElementRef",
    "FieldControl",
    "Finding",
    "IntegrityResult",
    "IntegrityVariant",
    "Level",
    "OtaHeader",
    "ParsedImage",
    "SubElement",
    "Tag",
    "aes_mmo",
    "build_image",
    "check_image",
    "check_writable_tags",
    "decode_header",
    "encode_header",
    "header_size",
    "integrity_code",
    "parse_image",
    "tag_name",
]
