"""AES-MMO (Zigbee spec 05-3474 Annex B.6) and the OTA image integrity code (tag 0x0003).

AES-MMO is a strictly serial chain: every block is encrypted under the previous digest,
so each block needs a fresh AES key schedule.  ``cryptography`` builds a whole cipher
context per key (~3.4 us/block), which is what the portable backend does.  When the
system ``libcrypto`` is loadable we call its ``AES_set_encrypt_key``/``AES_encrypt``
through ctypes instead (~0.9 us/block, about 4x faster); that backend must pass the
spec's own vector when loaded or it is not used.  ``OTA_AES_BACKEND=cryptography``
forces the portable one.

Real files disagree about which bytes the integrity code covers (see
``IntegrityVariant``); every range rule lives in :func:`integrity_ranges` so a verifier
and a writer cannot drift apart.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable
from dataclasses import dataclass

BLOCK = 16
DIGEST_SIZE = 16
SHORT_FORM_LIMIT = 8192  # bytes; from here on the bit length needs the 32-bit form
MAX_INPUT = 1 << 29  # bytes; the 32-bit bit-length field ends here

_Chain = Callable[[bytes], bytes]
"""``chain(padded) -> digest``: the MMO chain over a whole padded message."""


def mmo_padding(length: int, *, short_form_only: bool = False) -> bytes:
    """Return the padding appended to a message of ``length`` bytes.

    Short form (< 8192 bytes): ``0x80 0x00.. len_bits:u16be``; long form:
    ``0x80 0x00.. len_bits:u32be 0x00 0x00``.  ``short_form_only`` reproduces the
    non-conformant hash of zigpy and Develco files (bit length truncated to 16 bits).
    """
    if length < 0:
        raise ValueError("negative length")
    bits = 8 * length
    if length < SHORT_FORM_LIMIT or short_form_only:
        return b"\x80" + bytes((13 - length) % BLOCK) + (bits & 0xFFFF).to_bytes(2, "big")
    if length < MAX_INPUT:
        return b"\x80" + bytes((9 - length) % BLOCK) + bits.to_bytes(4, "big") + b"\0\0"
    raise ValueError(f"AES-MMO input of {length} bytes is too long (limit {MAX_INPUT} bytes)")


def _cryptography_chain() -> _Chain:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    def chain(padded: bytes) -> bytes:
        # Locals and int XOR: the loop body is the whole cost (a cipher context per block).
        from_bytes, aes, ecb, cipher = int.from_bytes, algorithms.AES, modes.ECB(), Cipher  # noqa: S305 - MMO is defined on raw AES blocks
        h = bytes(BLOCK)
        for i in range(0, len(padded), BLOCK):
            m = padded[i : i + BLOCK]
            c = cipher(aes(h), ecb).encryptor().update(m)
            h = (from_bytes(c, "little") ^ from_bytes(m, "little")).to_bytes(BLOCK, "little")
        return h

    return chain


def _libcrypto_chain() -> _Chain | None:
    """The chain on the system libcrypto's AES via ctypes, or None when unavailable.

    No ``argtypes`` on purpose: ctypes' automatic conversion of ``bytes`` to ``char *``
    and of a string buffer to a pointer is 3x cheaper than declared conversions.
    """
    import ctypes

    for name in ("libcrypto.so.3", "libcrypto.so"):
        try:
            lib = ctypes.CDLL(name)
            set_key = lib.AES_set_encrypt_key
            aes_encrypt = lib.AES_encrypt
            break
        except (OSError, AttributeError):
            continue
    else:
        return None
    # struct aes_key_st { uint32 rd_key[60]; int rounds; } is 244 bytes; over-allocate.
    key_schedule = ctypes.create_string_buffer(512)
    out = ctypes.create_string_buffer(BLOCK)

    def chain(padded: bytes) -> bytes:
        from_bytes = int.from_bytes
        h = bytes(BLOCK)
        for i in range(0, len(padded), BLOCK):
            m = padded[i : i + BLOCK]
            set_key(h, 128, key_schedule)
            aes_encrypt(m, out, key_schedule)
            h = (from_bytes(out.raw, "little") ^ from_bytes(m, "little")).to_bytes(BLOCK, "little")
        return h

    return chain


@dataclass(frozen=True)
class Backend:
    """One way of running the MMO chain; ``name`` is reported by the benchmark."""

    name: str
    chain: _Chain


BACKEND_NAMES = ("libcrypto", "cryptography")
_BACKENDS: dict[str, Backend] = {}
_SELF_TEST = (b"\xc0", bytes.fromhex("AE3A102A28D43EE0D4A09E22788B206C"))  # spec C.5.1


def backend(name: str | None = None) -> Backend:
    """Return the named AES backend (``libcrypto`` or ``cryptography``), or the best one."""
    wanted = name or os.environ.get("OTA_AES_BACKEND") or "auto"
    if wanted not in ("auto", *BACKEND_NAMES):
        raise ValueError(f"unknown AES backend {wanted!r} (use libcrypto or cryptography)")
    if wanted in _BACKENDS:
        return _BACKENDS[wanted]
    chosen: Backend | None = None
    if wanted in ("auto", "libcrypto"):
        fast = _libcrypto_chain()
        message, digest = _SELF_TEST
        if fast is not None and fast(message + mmo_padding(len(message))) == digest:
            chosen = Backend("libcrypto", fast)
        elif wanted == "libcrypto":
            raise RuntimeError("the libcrypto AES backend is not available on this system")
    if chosen is None:
        chosen = Backend("cryptography", _cryptography_chain())
    _BACKENDS[wanted] = chosen
    return chosen


def aes_mmo(
    message: bytes | memoryview, *, short_form_only: bool = False, backend_name: str | None = None
) -> bytes:
    """AES-MMO digest of ``message`` per Zigbee spec Annex B.6 (linear time)."""
    padded = bytes(message) + mmo_padding(len(message), short_form_only=short_form_only)
    return backend(backend_name).chain(padded)


class IntegrityVariant(enum.Enum):
    """Which bytes an integrity code covers, and how they were padded.

    ``STANDARD`` (rule A) is what ota-action writes: spec AES-MMO over every byte before
    the 0x0003 sub-element.  The other two are found in real vendor files.
    """

    STANDARD = "standard"  # rule A: file[0:pos], spec padding (Ubisys, Innr, Bosch, ZBOSS)
    COVERS_TAG_HEADER = "covers-tag-header"  # rule C: file[0:pos+6] (NodOn)
    SHORT_PADDING_ONLY = "short-padding-only"  # rule B: file[0:pos], 16-bit length (Develco)


def integrity_ranges(element_offset: int) -> list[tuple[IntegrityVariant, int, bool]]:
    """Hashed range end and padding form for each variant, in the order a verifier tries.

    ``element_offset`` is the offset of the 0x0003 tag id.  Rule A comes first: below
    8192 bytes A and B give the same digest and A must then be reported.
    """
    return [
        (IntegrityVariant.STANDARD, element_offset, False),
        (IntegrityVariant.COVERS_TAG_HEADER, element_offset + 6, False),
        (IntegrityVariant.SHORT_PADDING_ONLY, element_offset, True),
    ]


def integrity_code(image_before_element: bytes | memoryview) -> bytes:
    """The integrity code ota-action writes (rule A) for the bytes before the 0x0003 element."""
    return aes_mmo(image_before_element)


def match_integrity(data: bytes | memoryview, element_offset: int, stored: bytes) -> IntegrityVariant | None:
    """Return the variant whose digest equals ``stored``, or None if none does."""
    for variant, end, short_only in integrity_ranges(element_offset):
        if end > len(data):
            continue
        if aes_mmo(memoryview(data)[:end], short_form_only=short_only) == stored:
            return variant
    return None
