"""The MCUboot image header and its TLV areas (MCUboot ``bootutil/image.h``).

Header, 32 bytes little-endian: magic 0x96F3B83D, load address, header size (u16),
protected TLV size (u16), image size, flags, version (major u8, minor u8, revision u16,
build u32), padding.  After ``header size + image size`` bytes come an optional protected
TLV area (info magic 0x6908) and the TLV area (0x6907): each a 4-byte info (magic, total
length including the info) and TLVs ``type:u16 | length:u16 | value``.  The protected
TLVs (security counter, dependencies) are covered by the hash and the signature; the
others (hash, key, signature) are not.

Reading is bounded: the header from the first bytes, each TLV area at most 64 KiB (its
length is a u16), at most :data:`MAX_TLVS` listed.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from ota_action.records import record

MAGIC = 0x96F3B83D
HEADER_SIZE = 32
_HEADER = struct.Struct("<IIHHIIBBHI")
TLV_INFO_MAGIC = 0x6907
TLV_PROT_INFO_MAGIC = 0x6908
MAX_TLVS = 32

# MCUboot's TLV types (bootutil/image.h), for people; unknown ones are shown by number.
TLV_NAMES = {
    0x01: "KEYHASH",
    0x02: "PUBKEY",
    0x10: "SHA256",
    0x11: "SHA384",
    0x12: "SHA512",
    0x20: "RSA2048",
    0x22: "ECDSASIG",
    0x23: "RSA3072",
    0x24: "ED25519",
    0x25: "SIG_PURE",
    0x30: "ENCRSA2048",
    0x31: "ENCKW",
    0x32: "ENCEC256",
    0x33: "ENCX25519",
    0x40: "DEPENDENCY",
    0x50: "SEC_CNT",
    0x60: "BOOT_RECORD",
}


@record
class McubootHeader:
    load_address: int
    header_size: int
    protected_tlv_size: int
    image_size: int
    flags: int
    version: str  # major.minor.revision+build, as imgtool writes and prints it


@record
class Tlv:
    """One TLV: its type, where its value starts (in the image), and its length."""

    type: int
    offset: int
    length: int
    protected: bool

    @property
    def name(self) -> str:
        return TLV_NAMES.get(self.type, f"0x{self.type:04X}")


def decode_header(head: bytes) -> McubootHeader | None:
    """The header from the image's first bytes; None unless they start with the magic."""
    if len(head) < _HEADER.size:
        return None
    magic, load, hdr, prot, size, flags, major, minor, revision, build = _HEADER.unpack_from(head)
    if magic != MAGIC:
        return None
    return McubootHeader(load, hdr, prot, size, flags, f"{major}.{minor}.{revision}+{build}")


def read_tlvs(f: BinaryIO, offset: int, length: int, header: McubootHeader) -> tuple[Tlv, ...] | None:
    """The TLVs of the image at ``[offset, offset + length)``; None when there is no TLV area there."""
    at = header.header_size + header.image_size
    found: list[Tlv] = []
    area = _area(f, offset, length, at)
    if area is not None and area[0] == TLV_PROT_INFO_MAGIC:
        found += _entries(area[1], at, protected=True)
        at += 4 + len(area[1])
        area = _area(f, offset, length, at)
    if area is None or area[0] != TLV_INFO_MAGIC:
        return tuple(found) or None
    found += _entries(area[1], at, protected=False)
    return tuple(found[:MAX_TLVS])


def _area(f: BinaryIO, offset: int, length: int, at: int) -> tuple[int, bytes] | None:
    if at + 4 > length:
        return None
    f.seek(offset + at)
    info = f.read(4)
    if len(info) < 4:
        return None
    magic, total = struct.unpack("<HH", info)
    if magic not in (TLV_INFO_MAGIC, TLV_PROT_INFO_MAGIC) or total < 4 or at + total > length:
        return None
    return magic, f.read(total - 4)


def _entries(data: bytes, area_start: int, *, protected: bool) -> list[Tlv]:
    out: list[Tlv] = []
    position = 0
    while position + 4 <= len(data) and len(out) < MAX_TLVS:
        kind, size = struct.unpack_from("<HH", data, position)
        out.append(Tlv(kind, area_start + 4 + position + 4, size, protected))
        position += 4 + size
    return out
