"""Synthetic vendor files for the recogniser tests: every layout, container, trailer and payload.

Built from the conventions' published descriptions (zigpy's image.py and validators.py,
Koenkk/zigbee-OTA's stack identification), never from bytes of a real file.  Every CRC
here is computed with zlib directly, independently of ota_action.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from dataclasses import dataclass

from ota_action.formats.zigbee.checks import Finding, check_image
from ota_action.formats.zigbee.containers import Container, find_container
from ota_action.formats.zigbee.elements import SubElement
from ota_action.formats.zigbee.header import OtaHeader, encode_header
from ota_action.formats.zigbee.image import ParsedImage, build_image, parse_image
from ota_action.formats.zigbee.layouts import Layout, detect_layout
from ota_action.formats.zigbee.payload import Payload, identify_payload
from ota_action.formats.zigbee.trailers import Trailer, find_trailer

GBL_HEADER = 0x03A617EB
GBL_PROG = 0xFE0101FE
GBL_END = 0xFC0404FC


def gbl_tag(tag: int, value: bytes, length: int | None = None) -> bytes:
    return struct.pack("<II", tag, len(value) if length is None else length) + value


def gbl(
    program: bytes = b"\x11" * 300, *, version: int = 0x03000000, gbl_type: int = 0, bad_crc: bool = False
) -> bytes:
    body = gbl_tag(GBL_HEADER, struct.pack("<II", version, gbl_type)) + gbl_tag(GBL_PROG, program)
    body += struct.pack("<II", GBL_END, 4)
    crc = zlib.crc32(body) ^ (1 if bad_crc else 0)
    image = body + struct.pack("<I", crc)
    assert zlib.crc32(image) == 0x2144DF1C or bad_crc  # zigpy's residue test, independently
    return image


def ebl_tag(tag: int, value: bytes) -> bytes:
    return struct.pack(">HH", tag, len(value)) + value


def ebl(*, encrypted: bool = False, pad_to: int = 64, pad: int = 0xFF, bad_crc: bool = False) -> bytes:
    if encrypted:
        body = ebl_tag(0xFB05, bytes(6)) + ebl_tag(0xFA06, bytes(16)) + ebl_tag(0xF907, b"\x5a" * 100)
    else:
        header_value = bytearray(140)
        header_value[2:4] = b"\xe3\x50"  # the EBL image signature at offset 6 of the image
        body = ebl_tag(0x0000, bytes(header_value)) + ebl_tag(0xFE01, b"\x22" * 200)
    body += struct.pack(">HH", 0xFC04, 4)
    crc = zlib.crc32(body) ^ (1 if bad_crc else 0)
    image = body + struct.pack("<I", crc)
    return image + bytes([pad]) * (-len(image) % pad_to)


def ota(elements: list[SubElement], *, manufacturer: int = 0x1234) -> bytes:
    header = OtaHeader.create(manufacturer_code=manufacturer, image_type=1, file_version=2)
    return build_image(header, elements)


def telink_ota(data: bytes = b"\x77" * 500, info: int = 0x0C01) -> bytes:
    """One Telink 0xF000 element: tag, length of the data only, 2-byte info, data."""
    header = OtaHeader.create(manufacturer_code=0x1141, image_type=0x0203, file_version=3)
    total = header.header_length + 6 + 2 + len(data)
    element = struct.pack("<HIH", 0xF000, len(data), info) + data
    return encode_header(header.with_total_size(total)) + element


def hue_sbl(raw: bytes = b"\x2a\x00\x01" + b"\x33" * 400) -> bytes:
    header = OtaHeader.create(manufacturer_code=0x100B, image_type=0x0104, file_version=0x12)
    return encode_header(header.with_total_size(header.header_length + len(raw))) + raw


def ngis(inner: bytes, *, offset: int = 616, trailer: int = 512) -> bytes:
    fields = struct.pack("<4s6I", b"NGIS", 12, 2010, offset - 12, offset, len(inner), offset + len(inner))
    return fields.ljust(offset, b"\xab") + inner + b"\xcd" * trailer


def legrand(inner: bytes) -> bytes:
    return struct.pack("<I", len(inner)) + inner + b"\x01" + b"\xee" * 16


def third_reality(inner: bytes, *, corrupt: bool = False) -> bytes:
    size = 152 + len(inner)
    rest = bytearray(88)
    struct.pack_into("<I", rest, 4, size - 64)  # offset 68 of the file
    after = bytes(rest) + inner
    digest = hashlib.sha512(after).digest()
    if corrupt:
        digest = bytes([digest[0] ^ 1]) + digest[1:]
    return digest + after


def salus(inner: bytes, *, bad: bool = False) -> bytes:
    return inner + struct.pack("<I", zlib.crc32(inner) ^ (1 if bad else 0))


@dataclass
class Analysis:
    container: Container | None
    parsed: ParsedImage
    layout: Layout
    trailer: Trailer | None
    payloads: list[Payload]
    findings: list[Finding]

    def messages(self, level: str) -> list[str]:
        return [f.message for f in self.findings if f.level.value == level]

    def codes(self) -> list[tuple[str, str]]:
        return [(f.level.value, f.code) for f in self.findings]


def analyse(data: bytes) -> Analysis:
    """What the wired-in ``verify`` will do: container, parse, layout, trailer, payloads, rules."""
    outer = io.BytesIO(data)
    container = find_container(outer, len(data))
    f = container.open(outer) if container else outer
    size = container.length if container else len(data)
    f.seek(0)
    parsed = parse_image(f.read())
    layout = detect_layout(f, parsed.header, parsed.elements, parsed.walk_problem, size)
    trailer = find_trailer(
        f, parsed.header.total_image_size, size, manufacturer_code=parsed.header.manufacturer_code
    )
    payloads = [identify_payload(f, o, n) for o, n in layout.payloads]
    findings = check_image(parsed, layout=layout, container=container, trailer=trailer, payloads=payloads)
    return Analysis(container, parsed, layout, trailer, payloads, findings)
