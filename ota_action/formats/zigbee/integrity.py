"""AES-MMO (Zigbee spec 05-3474 Annex B.6) and the OTA image integrity code (tag 0x0003).

:class:`MmoHasher` is the incremental form (``update()``/``digest()``/``copy()``, like
:mod:`hashlib`): files are hashed in chunks as they are read or written, never held
whole.  :func:`aes_mmo` is the one-shot form, a thin wrapper over it.  The AES block
function comes from :mod:`ota_action.formats.zigbee.aes`; callers pass the backend they want.

Length limit: the spec's padding stores the message length in bits, in 16 bits below
8192 bytes and in 32 bits from there on, so AES-MMO ends at 2^32 bits = 2^29 bytes
(512 MiB).  Asking for the digest of 2^29 bytes or more raises ValueError; writers
refuse such an image before writing anything, verifiers report the code as uncheckable.

Real files disagree about which bytes the integrity code covers (see
``IntegrityVariant``); every range rule lives in :func:`integrity_ranges` so a verifier
and a writer cannot drift apart, and :func:`integrity_digests` computes all of them in
one pass over the bytes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ota_action.formats.zigbee.aes import Backend

# The AES backends (ctypes, libcrypto) are imported when a hash is computed: zbota without
# --integrity imports this module for its layout rules only (issue 25, start-up).
BLOCK = 16  # aes.BLOCK
DIGEST_SIZE = 16
SHORT_FORM_LIMIT = 8192  # bytes; from here on the bit length needs the 32-bit form
MAX_INPUT = 1 << 29  # bytes; the 32-bit bit-length field ends here
# Blocks handed to the backend per call: large enough to amortise the call, small
# enough that the bytes copy per call stays well under a megabyte.
_RUN = 1 << 16


def backend_of(name: str | None = None) -> Backend:
    """:func:`backend` under a name the hashing functions' ``backend`` parameter leaves free."""
    return backend(name)


def backend(name: str | None = None) -> Backend:
    """The named AES backend (``libcrypto`` or ``cryptography``), or the fastest for None."""
    from ota_action.formats.zigbee import aes

    return aes.get(name)


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


class MmoHasher:
    """Incremental AES-MMO: feed bytes with :meth:`update`, read :meth:`digest` at any time.

    Only the chain state (16 bytes) and at most 15 pending bytes are kept, whatever the
    length.  :meth:`digest` does not end the hasher, and :meth:`copy` forks it, so one
    pass over a file yields the digests of several prefixes and both padding forms.
    """

    __slots__ = ("_backend", "_length", "_pending", "_state")

    def __init__(self, data: bytes | bytearray | memoryview = b"", *, backend: Backend) -> None:
        self._backend = backend
        self._state = bytes(DIGEST_SIZE)
        self._pending = b""
        self._length = 0
        if data:
            self.update(data)

    @property
    def backend(self) -> Backend:
        return self._backend

    @property
    def length(self) -> int:
        """Bytes fed so far."""
        return self._length

    def update(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data).cast("B")
        self._length += len(view)
        compress = self._backend.compress
        pos = 0
        if self._pending:
            need = BLOCK - len(self._pending)
            if len(view) < need:
                self._pending += bytes(view)
                return
            self._state = compress(self._state, self._pending + bytes(view[:need]))
            self._pending = b""
            pos = need
        whole = pos + (len(view) - pos) // BLOCK * BLOCK
        step = _RUN * BLOCK
        while pos < whole:
            stop = min(pos + step, whole)
            self._state = compress(self._state, bytes(view[pos:stop]))
            pos = stop
        self._pending = bytes(view[whole:])

    def digest(self, *, short_form_only: bool = False) -> bytes:
        """The digest of everything fed so far (ValueError from 2^29 bytes, long form)."""
        tail = self._pending + mmo_padding(self._length, short_form_only=short_form_only)
        return self._backend.compress(self._state, tail)

    def hexdigest(self, *, short_form_only: bool = False) -> str:
        return self.digest(short_form_only=short_form_only).hex()

    def copy(self) -> MmoHasher:
        twin = MmoHasher.__new__(MmoHasher)
        twin._backend, twin._state = self._backend, self._state
        twin._pending, twin._length = self._pending, self._length
        return twin


def aes_mmo(
    message: bytes | bytearray | memoryview,
    *,
    short_form_only: bool = False,
    backend_name: str | None = None,
    backend: Backend | None = None,
) -> bytes:
    """AES-MMO digest of ``message`` per Zigbee spec Annex B.6 (linear time)."""
    chosen = backend or backend_of(backend_name)
    return MmoHasher(message, backend=chosen).digest(short_form_only=short_form_only)


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


def integrity_digests(
    chunks: Iterable[bytes | bytearray | memoryview], element_offset: int, *, backend: Backend
) -> dict[IntegrityVariant, bytes | None]:
    """Every variant's digest in one pass over ``chunks`` (the file from offset 0).

    Bytes past ``element_offset + 6`` are ignored.  A variant whose range the chunks do
    not reach, or that the long form cannot hash (2^29 bytes or more), maps to None.
    """
    hasher = MmoHasher(backend=backend)
    out: dict[IntegrityVariant, bytes | None] = {v: None for v, _, _ in integrity_ranges(element_offset)}
    at_element: MmoHasher | None = None
    for chunk in chunks:
        view = memoryview(chunk).cast("B")
        if at_element is None:
            take = min(len(view), element_offset - hasher.length)
            hasher.update(view[:take])
            view = view[take:]
            if hasher.length == element_offset:
                at_element = hasher.copy()
        if at_element is not None and view:
            hasher.update(view[: element_offset + 6 - hasher.length])
        if hasher.length >= element_offset + 6:
            break
    if element_offset == 0:
        at_element = hasher if hasher.length == 0 else at_element
    for variant, end, short_only in integrity_ranges(element_offset):
        source = at_element if end == element_offset else hasher
        if source is None or source.length != end:
            continue
        try:
            out[variant] = source.digest(short_form_only=short_only)
        except ValueError:  # past the long form's 2^29 bytes: no such digest exists
            out[variant] = None
    return out


def integrity_code(image_before_element: bytes | memoryview, *, backend: Backend | None = None) -> bytes:
    """The integrity code ota-action writes (rule A) for the bytes before the 0x0003 element.

    A one-shot function on bytes in memory, like :func:`aes_mmo`: with no ``backend`` the
    fastest is used.  Commands hash through :class:`MmoHasher`, which is always given theirs.
    """
    return aes_mmo(image_before_element, backend=backend)


def match_integrity(
    data: bytes | memoryview, element_offset: int, stored: bytes, *, backend: Backend | None = None
) -> IntegrityVariant | None:
    """Return the variant whose digest equals ``stored``, or None if none does (bytes in memory)."""
    chosen = backend or backend_of()
    return match_digests(integrity_digests([data], element_offset, backend=chosen), stored)


def match_digests(digests: dict[IntegrityVariant, bytes | None], stored: bytes) -> IntegrityVariant | None:
    """The first variant (in :func:`integrity_ranges` order) whose digest is ``stored``."""
    for variant, digest in digests.items():
        if digest is not None and digest == stored:
            return variant
    return None
