"""Build a GBL3 application image: header, application info, program data, then in this order
compression, AES encryption and the ECDSA P-256 signature, as Commander's ``gbl3 create`` does.

The tags, their serialisation and the CRC are ``pygbl``'s (the zigpy project keeps it to
parse and write every GBL byte for byte); this module only chooses them and signs through
the project's signing port (the caller passes ``sign``), so a key never reaches a library.

* Compression (``lzma``, ``lz4``) replaces each program-data tag by its compressed form.
* Encryption is AES-128-CTR over every tag but the header and end tag, counter block
  ``0x02 || nonce(12) || counter(3)`` from 1.  The nonce is derived from the key and the
  plaintext (HMAC-SHA-256, first 12 bytes) instead of drawn at random: the same input gives
  the same file (reproducible builds), and two different images never share a keystream.
* The signature covers SHA-256 of every tag as written (after encryption) except the
  signature and end tags; it is stored raw ``r || s``.  The header's signed flag is set
  before the digest is taken, as the bootloader expects.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import hmac
from collections.abc import Callable, Sequence

from pygbl import (
    GBL3ApplicationInfo,
    GBL3ApplicationType,
    GBL3Compression,
    GBL3End,
    GBL3EraseProg,
    GBL3Header,
    GBL3Image,
    GBL3Signature,
    GBL3TagBase,
    GBL3Type,
)

from ota_action.errors import InputError
from ota_action.records import record

# Signs a SHA-256 digest, returning ECDSA (r, s).  The command binds the signing port's
# sign_checked to its signer; the format never sees a key or imports a key source.
DigestSign = Callable[[bytes], tuple[int, int]]

GBL3_VERSION = 3  # pygbl writes it big-endian: bytes 00 00 00 03, the u32 0x03000000 LE
AES_KEY_SIZE = 16
NONCE_SIZE = 12
SIGNATURE_PART = 32


class Compression(enum.StrEnum):
    LZMA = "lzma"
    LZ4 = "lz4"


_PYGBL_COMPRESSION = {Compression.LZMA: GBL3Compression.LZMA, Compression.LZ4: GBL3Compression.LZ4}


@record
class GblApplication:
    """What the application info tag says: type flags, version, capabilities, product id."""

    version: int = 0
    type: GBL3ApplicationType = GBL3ApplicationType.ZIGBEE
    capabilities: int = 0
    product_id: bytes = bytes(16)


def encryption_nonce(key: bytes, plaintext: bytes) -> bytes:
    """The 12-byte CTR nonce: HMAC-SHA-256(key, plaintext), truncated (see the module doc)."""
    return hmac.new(key, plaintext, hashlib.sha256).digest()[:NONCE_SIZE]


def _plain(segments: Sequence[tuple[int, bytes]], app: GblApplication) -> GBL3Image:
    tags: list[GBL3TagBase] = [
        GBL3Header(version=GBL3_VERSION, type=GBL3Type.NONE),
        GBL3ApplicationInfo(
            type=app.type, version=app.version, capabilities=app.capabilities, product_id=app.product_id
        ),
        *(GBL3EraseProg(address=address, data=data) for address, data in segments),
    ]
    return GBL3Image(tags=tags).regenerate_crc()


def _encrypted(image: GBL3Image, key: bytes) -> GBL3Image:
    if len(key) != AES_KEY_SIZE:
        raise InputError(f"must hold a {AES_KEY_SIZE}-byte AES-128 key", field="encrypt_key_env")
    return image.encrypt(key, nonce=encryption_nonce(key, image.serialize_tags()))


def _signed(image: GBL3Image, sign: DigestSign) -> GBL3Image:
    tags = [t for t in image.tags if not isinstance(t, GBL3Signature | GBL3End)]
    header = image.get_first_tag(GBL3Header)
    tags[tags.index(header)] = dataclasses.replace(header, type=header.type | GBL3Type.SIGNATURE_ECDSA_P256)
    unsigned = GBL3Image(tags=tags)
    r_int, s_int = sign(unsigned.signing_digest())
    r, s = r_int.to_bytes(SIGNATURE_PART, "big"), s_int.to_bytes(SIGNATURE_PART, "big")
    return GBL3Image(tags=[*tags, GBL3Signature(r=r, s=s)]).regenerate_crc()


def build_gbl(
    segments: Sequence[tuple[int, bytes]],
    *,
    app: GblApplication | None = None,
    compression: Compression | None = None,
    encrypt_key: bytes | None = None,
    sign: DigestSign | None = None,
) -> bytes:
    """The GBL3 file for ``segments`` (``(address, data)`` in flash order), ready to write."""
    if not segments or not any(data for _, data in segments):
        raise InputError("holds no data to program", field="image")
    for address, data in segments:
        if address + len(data) > 1 << 32:
            raise InputError(
                f"runs past the 32-bit address space: {len(data)} bytes from 0x{address:08X}", field="address"
            )
    image = _plain(segments, app or GblApplication())
    if compression is not None:
        image = image.compress(_PYGBL_COMPRESSION[compression])
    if encrypt_key is not None:
        image = _encrypted(image, encrypt_key)
    if sign is not None:
        image = _signed(image, sign)
    return image.serialize()
