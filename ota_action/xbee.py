"""Digi XBee3 file-system OTA images: pad, sign, wrap, and take apart again.

The layout (Digi's "Create the OTA file system image", checked byte for byte in the
reference): the ``xbfs.bin`` image padded with 0xFF to a multiple of 2048 bytes, its DER
ECDSA P-256/SHA-256 signature appended, both inside ONE 0x0000 upgrade-image
sub-element whose length covers image *and* signature, under a standard 56-byte OTA
header (manufacturer 0x101E, image type 0x0100).  Nothing follows the signature.

This module is pure: signing is a callable handed in by the command, so no key ever
passes through here, and :func:`split_payload` is what ``verify --public-key`` uses to
find the signed bytes again (the 2048-multiple prefix; the rest is the signature).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ota_action.errors import InputError
from ota_action.values import parse_file_version
from ota_action.zigbee.elements import UPGRADE_IMAGE, SubElement
from ota_action.zigbee.header import OtaHeader
from ota_action.zigbee.image import build_image

DIGI_MANUFACTURER = 0x101E
FS_IMAGE_TYPE = 0x0100
BLOCK = 2048
FILL = 0xFF
YMODEM_PAD = 0x1A
# digi-xbee maps (file_version & 0xFFFFFF) >> 12 to the protocol; anything else crashes it.
PROTOCOLS = {1: "Zigbee", 2: "802.15.4", 3: "DigiMesh"}

Signer = Callable[[bytes], bytes]


def pad(raw: bytes) -> bytes:
    """``raw`` with 0xFF appended up to a multiple of 2048 bytes (nothing if aligned)."""
    return raw + bytes([FILL]) * ((-len(raw)) % BLOCK)


@dataclass(frozen=True)
class FsImage:
    """A built file: its bytes and the figures the summary reports."""

    data: bytes
    raw_size: int
    padded_size: int
    signature: bytes

    @property
    def payload_length(self) -> int:
        return self.padded_size + len(self.signature)


def build_fs_ota(
    raw: bytes,
    *,
    file_version: int,
    sign: Signer,
    manufacturer_code: int = DIGI_MANUFACTURER,
    image_type: int = FS_IMAGE_TYPE,
    header_string: bytes = b"",
) -> FsImage:
    """Pad ``raw``, sign the padded bytes with ``sign``, and wrap both in an OTA file."""
    if not raw:
        raise InputError("is empty; give the xbfs.bin downloaded with ATFS GET /sys/xbfs.bin", field="image")
    padded = pad(raw)
    signature = sign(padded)
    header = OtaHeader.create(
        manufacturer_code=manufacturer_code,
        image_type=image_type,
        file_version=file_version,
        header_string=header_string,
    )
    data = build_image(header, [SubElement(UPGRADE_IMAGE, padded + signature)])
    return FsImage(data, len(raw), len(padded), signature)


def split_payload(payload: bytes) -> tuple[bytes, bytes]:
    """(signed image, signature): the largest 2048-multiple prefix and what follows it.

    Signatures are at most 72 bytes, so the split is unambiguous; the device's own rule
    is undocumented, but with 2048 alignment the DER length gives the same answer.
    """
    cut = len(payload) - len(payload) % BLOCK
    return payload[:cut], payload[cut:]


def trailing_ymodem_padding(raw: bytes) -> int:
    """How many 0x1A bytes end ``raw`` (a YMODEM receiver that ignored the file length)."""
    return len(raw) - len(raw.rstrip(bytes([YMODEM_PAD])))


# --- file version ----------------------------------------------------------------------

_VR = re.compile(
    r"(?:VR\s*=\s*)?(?P<vr>(?:0[xX])?[0-9A-Fa-f]{1,6})"
    r"(?:\s*(?::|,\s*C\s*=)\s*(?P<c>(?:0[xX])?[0-9A-Fa-f]{1,2}))?",
    re.IGNORECASE,
)


def parse_fs_version(text: str | int) -> int:
    """The 32-bit file version from the forms users have.

    * ``0x0100100D`` - the whole field (0x prefix: any 32-bit hex value);
    * ``1.0.16.13`` - dotted bytes, most significant first;
    * ``100D`` - the staging device's ``ATVR`` reply (hex, as the device prints it),
      compatibility byte 0;
    * ``100D:1`` or ``VR=100D,C=1`` - VR plus the compatibility byte (``%C``, hex).

    The result is ``(C << 24) | VR``.  Bare digits are hex, because that is how the
    device prints VR; decimal is not accepted (``4109`` would be ambiguous).
    """
    if isinstance(text, int) and not isinstance(text, bool):
        return parse_file_version(text)
    value = str(text).strip()
    if "." in value:
        return parse_file_version(value)
    if re.fullmatch(r"0[xX][0-9A-Fa-f]{1,8}", value):
        return int(value, 16)
    match = _VR.fullmatch(value)
    if match is None:
        raise ValueError(
            "must be hex 0x0100100D, dotted 1.0.16.13, or the device's VR value with an "
            "optional compatibility byte: 100D, 100D:1 or VR=100D,C=1"
        )
    vr = int(match["vr"], 16)
    compat = int(match["c"], 16) if match["c"] else 0
    return (compat << 24) | vr


def version_warning(file_version: int) -> str | None:
    """A warning when the low 24 bits do not look like an XBee3 VR value (0x1xxx-0x3xxx)."""
    family = (file_version & 0xFFFFFF) >> 12
    if family in PROTOCOLS:
        return None
    return (
        f"file version 0x{file_version:08X}: its low 24 bits 0x{file_version & 0xFFFFFF:06X} are not an "
        "XBee3 firmware version (0x1xxx Zigbee, 0x2xxx 802.15.4, 0x3xxx DigiMesh); use the staging "
        "device's ATVR value, or digi-xbee will refuse the file"
    )


def describe_version(file_version: int) -> dict[str, object]:
    vr = file_version & 0xFFFFFF
    return {
        "vr": f"{vr:X}",
        "compatibility": file_version >> 24,
        "protocol": PROTOCOLS.get(vr >> 12),
    }
