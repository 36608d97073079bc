"""The AES block function behind AES-MMO, on two backends: ``cryptography`` and native libcrypto.

AES-MMO is a strictly serial chain: every block is encrypted under the previous digest,
so each block needs a fresh AES key schedule.  ``cryptography`` builds a whole cipher
context per key (~3.4 us/block): that is the portable backend.  When the system
``libcrypto`` is loadable, its ``AES_set_encrypt_key``/``AES_ofb128_encrypt`` are
called through ctypes instead (about 5x faster); that backend must reproduce the spec's
own vector when loaded or it is not used.

A backend's one operation is :meth:`Backend.compress`: run the MMO chain from a state
over a whole number of blocks and return the new state.  It holds no state of its own
between calls, so one backend object may be used by any number of threads at once
(the libcrypto key schedule and chain state are allocated per call, the input copies
once per thread).

This module never reads the environment: the caller names the backend it wants
(``OTA_AES_BACKEND`` is resolved by the commands, at the edge).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ota_action.records import record

BLOCK = 16
NAMES = ("libcrypto", "cryptography")

Compress = Callable[[bytes, bytes], bytes]
"""``compress(state, blocks) -> state``: the MMO chain over ``len(blocks) // 16`` blocks."""

# Only versioned names: on macOS an unversioned ``libcrypto.dylib`` is Apple's stub that
# aborts the whole process ("loading libcrypto in an unsafe way") instead of failing to
# load, and on Linux the bare ``libcrypto.so`` is a development symlink to whichever
# version happens to be installed.  OpenSSL 1.1 and 3 both keep the AES_* functions.
LIBCRYPTO_NAMES = (
    "libcrypto.so.3",
    "libcrypto.so.1.1",
    "libcrypto.3.dylib",
    "libcrypto.1.1.dylib",
    "libcrypto-3-x64.dll",
    "libcrypto-3.dll",
    "libcrypto-1_1-x64.dll",
)
# struct aes_key_st { uint32 rd_key[60]; int rounds; } is 244 bytes; over-allocate.
_KEY_SCHEDULE_SIZE = 512
# Bytes of input a thread's workspace holds at a time: 1,024 blocks, whose pointers (two
# byref objects a block, ~0.2 ms to make) are made on a thread's first call.
_CHUNK = 16 << 10
_SELF_TEST = (
    b"\xc0\x80" + bytes(12) + b"\x00\x08",  # "C0" with its AES-MMO padding (spec C.5.1)
    bytes.fromhex("AE3A102A28D43EE0D4A09E22788B206C"),
)


@record
class Backend:
    """One way of running the MMO chain; ``name`` is what the benchmark and logs report."""

    name: str
    compress: Compress


def _cryptography_compress(state: bytes, blocks: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    # Locals and int XOR: the loop body is the whole cost (a cipher context per block).
    from_bytes, aes, ecb, cipher = int.from_bytes, algorithms.AES, modes.ECB(), Cipher  # noqa: S305 - MMO is defined on raw AES blocks
    h = state
    for i in range(0, len(blocks) - len(blocks) % BLOCK, BLOCK):
        m = blocks[i : i + BLOCK]
        c = cipher(aes(h), ecb).encryptor().update(m)
        h = (from_bytes(c, "little") ^ from_bytes(m, "little")).to_bytes(BLOCK, "little")
    return h


def _load_libcrypto() -> Compress | None:
    """The chain on the system libcrypto's AES via ctypes, or None when unavailable.

    One MMO step is ``h = E_h(m) XOR m``, and that is exactly the first block of AES-OFB
    under key ``h`` with IV ``m`` applied to ``m``: so ``AES_ofb128_encrypt`` does the
    encryption *and* the XOR in C, writing the next key straight into the buffer that
    ``AES_set_encrypt_key`` reads.  No Python integer work remains per block (1.3x
    faster than encrypting and XORing in Python; docs/speed.md).  OFB overwrites its
    IV, so the IVs are a second copy of the blocks.

    The per-block cost is the two ctypes calls, so each is made as cheap as ctypes
    allows (docs/speed.md "AES-MMO"): the library is loaded as a ``PyDLL``, which keeps
    the GIL across a call instead of releasing and taking it back twice per block (the C
    work is a fraction of a microsecond: no other thread could use the gap); every
    pointer a call takes is a ``byref`` object made once, not per block: the key,
    schedule and position for the whole run, and a block's place in the two copies of
    the input for each of the :data:`_CHUNK` bytes a thread's workspace holds (the
    blocks are copied in a chunk at a time, one ``memmove`` each); the key length is a
    Python int (a C int, as declared); the results are not converted (``restype``
    None).  No ``argtypes`` on purpose: declared conversions cost more than ctypes'
    automatic ones for ``byref`` objects and ints.
    """
    import ctypes

    for name in LIBCRYPTO_NAMES:
        try:
            lib = ctypes.PyDLL(name)
            set_key = lib.AES_set_encrypt_key
            ofb = lib.AES_ofb128_encrypt
            break
        except (OSError, AttributeError):
            continue
    else:
        return None
    set_key.restype = ofb.restype = None  # nothing to read back: no int object per call
    buffer, byref, memmove, c_int = ctypes.create_string_buffer, ctypes.byref, ctypes.memmove, ctypes.c_int
    # Typed once: AES_ofb128_encrypt's length is a size_t, which a bare Python int (passed
    # as a C int) would not be on every ABI.  The key length is an int: 128 is exact.
    length = ctypes.c_size_t(BLOCK)
    local = threading.local()  # one workspace a thread: two threads never meet in a buffer

    def workspace() -> tuple[Any, ...]:
        found: tuple[Any, ...] | None = getattr(local, "workspace", None)
        if found is None:
            source, ivs = buffer(_CHUNK), buffer(_CHUNK)
            places = range(0, _CHUNK, BLOCK)
            found = (source, ivs, [byref(source, i) for i in places], [byref(ivs, i) for i in places])
            local.workspace = found
        return found

    def compress(state: bytes, blocks: bytes) -> bytes:
        source, ivs, sources, iv_places = workspace()
        key_schedule = buffer(_KEY_SCHEDULE_SIZE)
        h = buffer(state, BLOCK)
        num = c_int(0)  # OFB's position in its block: back to 0 after each 16 bytes
        key, schedule, position = byref(h), byref(key_schedule), byref(num)
        size = len(blocks) - len(blocks) % BLOCK
        for start in range(0, size, _CHUNK):
            count = min(_CHUNK, size - start)
            chunk = blocks[start : start + count]
            memmove(source, chunk, count)
            memmove(ivs, chunk, count)  # OFB overwrites its IV: a second copy
            blocks_here = count // BLOCK
            for block, iv in zip(sources[:blocks_here], iv_places[:blocks_here], strict=True):
                set_key(key, 128, schedule)
                ofb(block, key, length, schedule, iv, position)
        return h.raw

    return compress


_CACHE: dict[str, Backend] = {}
_LOCK = threading.Lock()


def get(name: str | None = None) -> Backend:
    """The named backend (``libcrypto`` or ``cryptography``); None or ``auto``: the fastest.

    ``libcrypto`` asked for by name and not available (or failing the self-test) is a
    RuntimeError; ``auto`` falls back to ``cryptography`` silently.
    """
    wanted = name or "auto"
    if wanted not in ("auto", *NAMES):
        raise ValueError(f"unknown AES backend {wanted!r} (use libcrypto or cryptography)")
    with _LOCK:
        if wanted in _CACHE:
            return _CACHE[wanted]
        chosen: Backend | None = None
        if wanted in ("auto", "libcrypto"):
            fast = _load_libcrypto()
            padded, digest = _SELF_TEST
            if fast is not None and fast(bytes(BLOCK), padded) == digest:
                chosen = Backend("libcrypto", fast)
            elif wanted == "libcrypto":
                raise RuntimeError("the libcrypto AES backend is not available on this system")
        if chosen is None:
            chosen = Backend("cryptography", _cryptography_compress)
        _CACHE[wanted] = chosen
        return chosen
