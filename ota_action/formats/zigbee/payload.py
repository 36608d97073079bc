"""What is inside an upgrade image (tag 0x0000, or Telink's 0xF000): the firmware's own format.

Payloads are identified by their content, never by the header string (an Aeotec file
says ``EBL`` and carries a GBL).  Silicon Labs GBL and EBL images are walked tag by
tag and their CRC-32 is checked the way the bootloader does: zlib's CRC-32 of every
byte from the start of the image up to and including the end tag's id and length must
equal the end tag's 4-byte value, read little-endian (equivalently, the CRC over the
whole image including that value is the residue 0x2144DF1C, zigpy's test).  Bytes after
the end tag (EBL's 0xFF padding to 64 bytes, Hue's GBL padding) are counted, not judged:
the bootloader stops at the end tag.

Telink application images (``KNLT`` start-up flag at offset 8) are checked as Telink's
boot code checks them (:mod:`ota_action.formats.telink`): the OTA magic, the size at 0x18
against the data, the CRC.  An upgrade image that is itself a Zigbee OTA file (magic
0x0BEEF11E: wrapped twice, a known mistake) is ``zigbee-ota``.

The other formats are recognised by their own headers, and only described:
NXP JN51xx (the 12-byte boot image record
magic), TI OAD (the 8-byte image id), MCUboot (magic 0x96F3B83D, Nordic NCS) and
Espressif app images (0xE9 plus the app descriptor magic 0xABCD5432 at offset 32).

Everything is read with bounded reads: the tag walk consumes the image once, in chunks
of at most 1 MiB; at most :data:`MAX_LISTED_TAGS` tags are listed, the rest are counted.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, BinaryIO

from ota_action.formats.telink import image as telink
from ota_action.formats.zigbee.header import MAGIC
from ota_action.formats.zigbee.streams import CHUNK, read_at

GBL = "gbl"
EBL = "ebl"
TELINK = "telink"
NXP_JN51XX = "nxp-jn51xx"
TI = "ti"
MCUBOOT = "mcuboot"
ESP = "esp"
ZIGBEE_OTA = "zigbee-ota"
UNKNOWN = "unknown"

MAX_LISTED_TAGS = 32
_BUFFER = 1 << 16

GBL_HEADER_TAG = 0x03A617EB
GBL_END_TAG = 0xFC0404FC
EBL_HEADER_TAG = 0x0000
EBL_ENCRYPTED_HEADER_TAG = 0xFB05
EBL_END_TAG = 0xFC04
EBL_IMAGE_SIGNATURE = 0xE350
CRC_SIZE = 4

TELINK_FLAG = 0x544C4E4B  # "KNLT" read as a little-endian u32 at offset 8
NXP_MAGIC = bytes.fromhex("123456781122334455667788")
TI_IMAGE_IDS = (b"CC26x2R1", b"CC13x2R1", b"CC13x4  ", b"CC26x3  ", b"CC26x4  ", b"OAD IMG ", b"CC23x0R2")
MCUBOOT_MAGIC = 0x96F3B83D
ESP_MAGIC = 0xE9
ESP_APP_DESC_MAGIC = 0xABCD5432
_OTA_MAGIC = MAGIC.to_bytes(4, "little")
_HEAD = 112  # enough for every header read below (ESP's project name ends at 112)


@dataclass(frozen=True)
class Payload:
    """The format of the bytes ``[offset, offset + length)`` and what could be checked.

    ``valid`` is True or False when the format has a check (GBL, EBL), None otherwise;
    ``problem`` says why it is False.
    """

    format: str
    valid: bool | None
    details: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    problem: str | None = None
    offset: int = 0
    length: int = 0

    def to_json(self) -> dict[str, Any]:
        details = dict(self.details)
        if self.problem is not None:
            details["problem"] = self.problem
        return {"format": self.format, "valid": self.valid, "details": details}


def identify_payload(f: BinaryIO, offset: int, length: int) -> Payload:
    """Identify the firmware in ``[offset, offset + length)`` of ``f``; never raises on content."""
    head = read_at(f, offset, min(length, _HEAD))
    if len(head) >= 4 and int.from_bytes(head[:4], "little") == GBL_HEADER_TAG:
        return _silabs(f, offset, length, gbl=True)
    if len(head) >= 8 and (
        (_u16be(head, 0) == EBL_HEADER_TAG and _u16be(head, 6) == EBL_IMAGE_SIGNATURE)
        or _u16be(head, 0) == EBL_ENCRYPTED_HEADER_TAG
    ):
        return _silabs(f, offset, length, gbl=False)
    if head[:4] == _OTA_MAGIC:
        return Payload(ZIGBEE_OTA, None, MappingProxyType({}), None, offset, length)
    if len(head) >= telink.HEAD_SIZE and telink.is_telink(head):
        return _telink(f, offset, length)
    return _described(head, offset, length)


def _telink(f: BinaryIO, offset: int, length: int) -> Payload:
    found = telink.check_telink(f, offset, length)
    details: dict[str, Any] = {"firmware_size": found.size_field, "version": f"0x{found.version:08X}"}
    if found.crc32_stored is not None:
        details["crc32_stored"] = f"0x{found.crc32_stored:08X}"
        details["crc32_computed"] = f"0x{found.crc32_computed:08X}"
    return Payload(TELINK, found.problem is None, MappingProxyType(details), found.problem, offset, length)


def _u16be(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 2], "big")


def _u32(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + 4], "little")


def _text(raw: bytes) -> str:
    """Text up to the first NUL; anything but printable ASCII escaped as ``\\xNN``."""
    raw = raw.split(b"\0", 1)[0]
    return "".join(chr(b) if 0x20 <= b < 0x7F and b != 0x5C else f"\\x{b:02x}" for b in raw)


def _described(head: bytes, offset: int, length: int) -> Payload:
    def found(fmt: str, **details: Any) -> Payload:
        return Payload(fmt, None, MappingProxyType(details), None, offset, length)

    if len(head) >= 12 and _u32(head, 8) == TELINK_FLAG:
        details: dict[str, Any] = {}
        if len(head) >= 0x1C:
            details["firmware_size"] = _u32(head, 0x18)
        return found(TELINK, **details)
    if head[:12] == NXP_MAGIC:
        return found(NXP_JN51XX)
    if head[:8] in TI_IMAGE_IDS:
        details = {"image_id": _text(head[:8]).rstrip()}
        if len(head) >= 36:
            details["image_length"] = _u32(head, 24)
            details["crc32_stored"] = f"0x{_u32(head, 8):08X}"
        return found(TI, **details)
    if len(head) >= 4 and _u32(head, 0) == MCUBOOT_MAGIC:
        details = {}
        if len(head) >= 28:
            major, minor, revision, build = struct.unpack_from("<BBHI", head, 20)
            details = {
                "header_size": int.from_bytes(head[8:10], "little"),
                "image_size": _u32(head, 12),
                "version": f"{major}.{minor}.{revision}+{build}",
            }
        return found(MCUBOOT, **details)
    if len(head) >= 36 and head[0] == ESP_MAGIC and _u32(head, 32) == ESP_APP_DESC_MAGIC:
        details = {"chip_id": int.from_bytes(head[12:14], "little")}
        if len(head) >= 112:
            details["version"] = _text(head[48:80])
            details["project_name"] = _text(head[80:112])
        return found(ESP, **details)
    return found(UNKNOWN)


class _Reader:
    """Consumes ``[start, stop)`` of a file once, front to back, feeding every byte to a CRC-32.

    Small reads (tag headers) come from a buffer of at most 64 KiB plus the request;
    large skips stream in chunks of at most 1 MiB.  ``position`` is relative to ``start``.
    """

    def __init__(self, f: BinaryIO, start: int, stop: int) -> None:
        self._f = f
        self._start = start
        self._next = start  # next file offset not yet in the buffer
        self._stop = stop
        self._buf = b""
        self.position = 0
        self.crc = 0

    @property
    def remaining(self) -> int:
        return self._stop - self._start - self.position

    def take(self, n: int) -> bytes:
        """Up to ``n`` bytes (fewer only at the end of the range or the file)."""
        while len(self._buf) < n and self._next < self._stop:
            piece = read_at(self._f, self._next, min(_BUFFER, self._stop - self._next))
            if not piece:
                self._stop = self._next  # the file is shorter than the range
                break
            self._buf += piece
            self._next += len(piece)
        data, self._buf = self._buf[:n], self._buf[n:]
        self._consumed(data)
        return data

    def skip(self, n: int, sink: Callable[[bytes], None] | None = None) -> int:
        """Consume ``n`` bytes without keeping them (``sink`` sees them); returns how many."""
        first = self.take(min(n, len(self._buf)))
        if sink is not None and first:
            sink(first)
        done = len(first)
        while done < n and self._next < self._stop:
            piece = read_at(self._f, self._next, min(CHUNK, n - done, self._stop - self._next))
            if not piece:
                self._stop = self._next
                break
            self._next += len(piece)
            self._consumed(piece)
            if sink is not None:
                sink(piece)
            done += len(piece)
        return done

    def all_bytes_are(self, value: int) -> bool:
        """Consume the rest of the range; True when every byte of it equals ``value``."""
        others = [0]

        def count(piece: bytes) -> None:
            others[0] += len(piece) - piece.count(value)

        self.skip(self.remaining, count)
        return others[0] == 0

    def _consumed(self, data: bytes) -> None:
        self.position += len(data)
        self.crc = zlib.crc32(data, self.crc)


@dataclass(frozen=True)
class _Scheme:
    name: str
    header: struct.Struct
    end_tag: int
    width: int  # hex digits of a tag id


_GBL = _Scheme("GBL", struct.Struct("<II"), GBL_END_TAG, 8)
_EBL = _Scheme("EBL", struct.Struct(">HH"), EBL_END_TAG, 4)


def _silabs(f: BinaryIO, offset: int, length: int, *, gbl: bool) -> Payload:
    scheme = _GBL if gbl else _EBL
    reader = _Reader(f, offset, offset + length)
    tags: list[dict[str, Any]] = []
    count = 0
    details: dict[str, Any] = {}

    def result(valid: bool, problem: str | None = None) -> Payload:
        details["tag_count"] = count
        details["tags"] = tags
        return Payload(GBL if gbl else EBL, valid, MappingProxyType(details), problem, offset, length)

    size = scheme.header.size
    while True:
        at = reader.position
        raw = reader.take(size)
        if len(raw) < size:
            if not raw:
                return result(
                    False,
                    f"{scheme.name} image ends at offset {at} without the end tag "
                    f"0x{scheme.end_tag:0{scheme.width}X}",
                )
            return result(
                False,
                f"{scheme.name} image is truncated: {len(raw)} bytes at offset {at} are too few "
                f"for a {size}-byte tag header",
            )
        tag, tag_length = scheme.header.unpack(raw)
        count += 1
        if len(tags) < MAX_LISTED_TAGS:
            tags.append({"tag": f"0x{tag:0{scheme.width}X}", "offset": at, "length": tag_length})
        name = f"{scheme.name} tag 0x{tag:0{scheme.width}X} at offset {at}"
        if tag_length > reader.remaining:
            return result(
                False,
                f"{name} claims {tag_length} bytes but only {reader.remaining} remain in the "
                f"{length}-byte upgrade image",
            )
        if tag == scheme.end_tag:
            if tag_length != CRC_SIZE:
                return result(False, f"{name} (the end tag) has length {tag_length}, expected {CRC_SIZE}")
            computed = reader.crc
            stored = int.from_bytes(reader.take(CRC_SIZE), "little")
            details["crc32_stored"] = f"0x{stored:08X}"
            details["crc32_computed"] = f"0x{computed:08X}"
            after = reader.remaining
            details["bytes_after_end"] = after
            if not gbl:
                details["padding_is_ff"] = reader.all_bytes_are(0xFF)
            if stored != computed:
                return result(
                    False,
                    f"{scheme.name} CRC-32 does not match: the end tag holds 0x{stored:08X}, "
                    f"the image computes to 0x{computed:08X}",
                )
            return result(True)
        if count == 1:
            value = reader.take(min(tag_length, 8))
            _describe_first_tag(details, gbl=gbl, tag=tag, value=value)
            reader.skip(tag_length - len(value))
        else:
            reader.skip(tag_length)


def _describe_first_tag(details: dict[str, Any], *, gbl: bool, tag: int, value: bytes) -> None:
    if gbl:
        if len(value) >= 8:
            details["version"] = f"0x{_u32(value, 0):08X}"
            details["type"] = _u32(value, 4)
    else:
        details["encrypted"] = tag == EBL_ENCRYPTED_HEADER_TAG
