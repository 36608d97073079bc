"""Digi XBee3 file-system OTA images: pad, sign, wrap, and take apart again.

The layout (Digi's "Create the OTA file system image", checked byte for byte in the
reference): the ``xbfs.bin`` image padded with 0xFF to a multiple of 2048 bytes, its DER
ECDSA P-256/SHA-256 signature appended, both inside ONE 0x0000 upgrade-image
sub-element whose length covers image *and* signature, under a standard 56-byte OTA
header (manufacturer 0x101E, image type 0x0100).  Nothing follows the signature.

Streaming: :func:`check_image_size` refuses what cannot fit before anything is read,
:func:`hash_padded` computes the SHA-256 of the padded image in one pass (the command
signs that digest, ``Prehashed``), and :func:`plan_fs_ota` plus
:func:`~ota_action.formats.zigbee.image.write_image` write the file in chunks.

This module is pure: signing is a callable handed in by the command, so no key ever
passes through here, and :func:`split_payload` is what ``verify --public-key`` uses to
find the signed bytes again (the 2048-multiple prefix; the rest is the signature).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Iterable

from ota_action.errors import InputError
from ota_action.formats.zigbee.elements import TAG_HEADER_SIZE, UPGRADE_IMAGE
from ota_action.formats.zigbee.header import FIXED_SIZE, OtaHeader
from ota_action.formats.zigbee.image import (
    MAX_TOTAL_SIZE,
    BytesSource,
    ConcatSource,
    FillSource,
    ImagePlan,
    Source,
    plan_image,
    write_image,
)
from ota_action.records import record
from ota_action.values import parse_file_version

DIGI_MANUFACTURER = 0x101E
FS_IMAGE_TYPE = 0x0100
BLOCK = 2048
FILL = 0xFF
YMODEM_PAD = 0x1A
# digi-xbee maps (file_version & 0xFFFFFF) >> 12 to the protocol; anything else crashes it.
PROTOCOLS = {1: "Zigbee", 2: "802.15.4", 3: "DigiMesh"}

Signer = Callable[[bytes], bytes]
MAX_SIGNATURE = 72  # bytes; a DER ECDSA P-256 signature is at most this long
OTA_OVERHEAD = FIXED_SIZE + TAG_HEADER_SIZE  # the 56-byte header and the 0x0000 tag header
MAX_RAW_SIZE = (MAX_TOTAL_SIZE - OTA_OVERHEAD - MAX_SIGNATURE) // BLOCK * BLOCK


def padded_size(raw_size: int) -> int:
    """``raw_size`` rounded up to a multiple of 2048."""
    return raw_size + (-raw_size) % BLOCK


def pad(raw: bytes) -> bytes:
    """``raw`` with 0xFF appended up to a multiple of 2048 bytes (nothing if aligned)."""
    return raw + bytes([FILL]) * ((-len(raw)) % BLOCK)


def check_image_size(raw_size: int) -> None:
    """Sizes first: refuse an empty image, or one whose padded size plus a signature
    cannot fit the OTA header's u32 total image size, before anything is read."""
    if raw_size == 0:
        raise InputError("is empty; give the xbfs.bin downloaded with ATFS GET /sys/xbfs.bin", field="image")
    if raw_size > MAX_RAW_SIZE:
        raise InputError(
            f"is {raw_size} bytes; padded to 2048 bytes and followed by a {MAX_SIGNATURE}-byte "
            f"signature it must fit the OTA total image size, a u32: at most {MAX_RAW_SIZE} bytes",
            field="image",
        )


def padding_source(raw_size: int) -> FillSource:
    return FillSource(padded_size(raw_size) - raw_size, FILL)


def hash_padded(chunks: Iterable[bytes | bytearray | memoryview], raw_size: int) -> tuple[bytes, int]:
    """(SHA-256 of the padded image, how many 0x1A bytes end the raw image), in one pass.

    ``chunks`` are the raw image's bytes; the 0xFF padding is hashed after them.
    """
    sha = hashlib.sha256()
    ymodem = 0
    for chunk in chunks:
        sha.update(chunk)
        data = bytes(chunk)
        stripped = len(data) - len(data.rstrip(bytes([YMODEM_PAD])))
        ymodem = ymodem + stripped if stripped == len(data) else stripped
    for chunk in padding_source(raw_size).chunks():
        sha.update(chunk)
    return sha.digest(), ymodem


def fs_header(
    *,
    file_version: int,
    manufacturer_code: int = DIGI_MANUFACTURER,
    image_type: int = FS_IMAGE_TYPE,
    header_string: bytes = b"",
) -> OtaHeader:
    return OtaHeader.create(
        manufacturer_code=manufacturer_code,
        image_type=image_type,
        file_version=file_version,
        header_string=header_string,
    )


def plan_fs_ota(header: OtaHeader, raw: Source, signature: bytes) -> ImagePlan:
    """The file: one 0x0000 element holding the image, its 0xFF padding and the signature."""
    check_image_size(raw.length)
    payload = ConcatSource((raw, padding_source(raw.length), BytesSource(signature)))
    return plan_image(header, [(UPGRADE_IMAGE, payload)], field="image")


@record
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
    """Pad ``raw``, sign the padded bytes with ``sign``, and wrap both in an OTA file (in memory)."""
    check_image_size(len(raw))
    signature = sign(pad(raw))
    header = fs_header(
        file_version=file_version,
        manufacturer_code=manufacturer_code,
        image_type=image_type,
        header_string=header_string,
    )
    out = io.BytesIO()
    write_image(plan_fs_ota(header, BytesSource(raw), signature), out)
    return FsImage(out.getvalue(), len(raw), padded_size(len(raw)), signature)


def split_length(payload_length: int) -> tuple[int, int]:
    """(signed image length, signature length) of a payload: see :func:`split_payload`."""
    cut = payload_length - payload_length % BLOCK
    return cut, payload_length - cut


def split_payload(payload: bytes) -> tuple[bytes, bytes]:
    """(signed image, signature): the largest 2048-multiple prefix and what follows it.

    Signatures are at most 72 bytes, so the split is unambiguous; the device's own rule
    is undocumented, but with 2048 alignment the DER length gives the same answer.
    """
    cut, _ = split_length(len(payload))
    return payload[:cut], payload[cut:]


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
