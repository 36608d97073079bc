"""The incremental AES-MMO hasher: every split point equals an independent one-shot reference,
the one-pass integrity variants equal separate hashes, and threads never share state."""

from __future__ import annotations

import random
import sys
import threading

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ota_action.formats.zigbee import aes
from ota_action.formats.zigbee.integrity import (
    IntegrityVariant,
    MmoHasher,
    aes_mmo,
    integrity_digests,
    match_integrity,
)


def seq(n: int) -> bytes:
    return bytes(i % 256 for i in range(n))


def available() -> list[str]:
    names = ["cryptography"]
    try:
        aes.get("libcrypto")
        names.append("libcrypto")
    except RuntimeError:
        pass
    return names


BACKENDS = available()


def reference_mmo(message: bytes, *, short_form_only: bool = False) -> bytes:
    """Annex B.6 written out again, independently of the code under test (padding included)."""
    n = len(message)
    bits = 8 * n
    if n < 8192 or short_form_only:
        padded = message + b"\x80" + bytes((13 - n) % 16) + (bits & 0xFFFF).to_bytes(2, "big")
    else:
        padded = message + b"\x80" + bytes((9 - n) % 16) + bits.to_bytes(4, "big") + b"\0\0"
    assert len(padded) % 16 == 0
    h = bytes(16)
    for i in range(0, len(padded), 16):
        m = padded[i : i + 16]
        c = Cipher(algorithms.AES(h), modes.ECB()).encryptor().update(m)  # noqa: S305 - MMO is raw AES
        h = bytes(a ^ b for a, b in zip(c, m, strict=True))
    return h


# Published digests (Zigbee 05-3474 C.5 and zigpy/zsmartsystems suites) for thread checks.
KNOWN = {
    1: (bytes.fromhex("C0"), "ae3a102a28d43ee0d4a09e22788b206c"),
    8191: (seq(8191), "24ec2fe75bbffcb34789bc0610e7f165"),
    8192: (seq(8192), "dc6b0687f09f8607131c170b3bd31591"),
    8201: (seq(8201), "72c9b15e178aa843e4a16c58e33643a3"),
    8202: (seq(8202), "bc9828d59b2aa323daf20be5f2e66511"),
}


@pytest.mark.parametrize("name", BACKENDS)
def test_every_split_point_of_short_messages(name: str) -> None:
    backend = aes.get(name)
    for length in range(81):
        data = seq(length)
        expected = reference_mmo(data)
        for split in range(length + 1):
            hasher = MmoHasher(data[:split], backend=backend)
            hasher.update(data[split:])
            assert hasher.digest() == expected, (length, split)
        assert aes_mmo(data, backend=backend) == expected


@pytest.mark.parametrize("name", BACKENDS)
def test_split_points_around_the_long_form_boundary(name: str) -> None:
    backend = aes.get(name)
    for length in (8176, 8178, 8179, 8180, 8191, 8192, 8193, 8195, 8201, 8202, 8208, 8209):
        data = seq(length)
        expected = reference_mmo(data)
        expected_short = reference_mmo(data, short_form_only=True)
        for split in sorted({0, 1, 15, 16, 17, 8175, 8176, 8177, 8191, 8192, 8193, length - 1, length}):
            if split > length:
                continue
            hasher = MmoHasher(backend=backend)
            hasher.update(data[:split])
            hasher.update(memoryview(data)[split:])
            assert hasher.digest() == expected, (length, split)
            assert hasher.digest(short_form_only=True) == expected_short, (length, split)


@pytest.mark.parametrize("name", BACKENDS)
def test_many_random_pieces_copy_and_repeated_digest(name: str) -> None:
    backend = aes.get(name)
    rng = random.Random(11)
    data = rng.randbytes(20000)
    hasher = MmoHasher(backend=backend)
    pos = 0
    while pos < len(data):
        step = rng.choice([0, 1, 3, 15, 16, 17, 31, 100, 4096])
        hasher.update(bytearray(data[pos : pos + step]))
        pos += step
        if rng.random() < 0.05:
            fork = hasher.copy()
            assert fork.digest() == hasher.digest() == reference_mmo(data[:pos])
            fork.update(b"x")
            assert fork.digest() == reference_mmo(data[:pos] + b"x")
    assert hasher.digest() == hasher.digest() == reference_mmo(data)
    assert hasher.length == len(data)


def test_digest_past_the_long_form_limit_is_refused_not_wrapped() -> None:
    hasher = MmoHasher(backend=aes.get())
    hasher._length = 1 << 29  # what 512 MiB of updates would leave; no need to hash them
    with pytest.raises(ValueError, match="too long"):
        hasher.digest()
    assert len(hasher.digest(short_form_only=True)) == 16  # the Develco form has no limit


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("position", [0, 5, 100, 8186, 8190, 8192, 9000])
def test_integrity_variants_in_one_pass_equal_separate_hashes(name: str, position: int) -> None:
    backend = aes.get(name)
    data = random.Random(position).randbytes(position + 22)
    digests = integrity_digests((data[i : i + 7] for i in range(0, len(data), 7)), position, backend=backend)
    assert digests[IntegrityVariant.STANDARD] == reference_mmo(data[:position])
    assert digests[IntegrityVariant.COVERS_TAG_HEADER] == reference_mmo(data[: position + 6])
    assert digests[IntegrityVariant.SHORT_PADDING_ONLY] == reference_mmo(
        data[:position], short_form_only=True
    )
    stored = reference_mmo(data[: position + 6])
    assert match_integrity(data, position, stored, backend=backend) is IntegrityVariant.COVERS_TAG_HEADER


def test_integrity_variants_of_a_too_short_stream_are_none() -> None:
    digests = integrity_digests([b"abc"], 10, backend=aes.get())
    assert set(digests.values()) == {None}


@pytest.mark.parametrize("name", BACKENDS)
def test_threads_hashing_at_once_get_every_digest_right(name: str) -> None:
    """The old libcrypto path shared one key schedule and output buffer: wrong digests here."""
    backend = aes.get(name)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def work(offset: int) -> None:
        start.wait()
        for round_ in range(6 if name == "libcrypto" else 2):
            length = list(KNOWN)[(offset + round_) % len(KNOWN)]
            message, _ = KNOWN[length]
            hasher = MmoHasher(backend=backend)
            for i in range(0, len(message), 1000):
                hasher.update(message[i : i + 1000])
            with lock:
                results.append((length, hasher.hexdigest()))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, inside the chain too
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert len(results) == 6 * (6 if name == "libcrypto" else 2)
    for length, digest in results:
        assert digest == KNOWN[length][1], length


def test_self_test_vector_and_versioned_library_names() -> None:
    assert all(any(c.isdigit() for c in n) for n in aes.LIBCRYPTO_NAMES)
    assert "libcrypto.dylib" not in aes.LIBCRYPTO_NAMES
    with pytest.raises(ValueError, match="unknown AES backend"):
        aes.get("rot13")


@pytest.mark.parametrize(
    "size",
    [0, 16, 1008, aes._CHUNK - 16, aes._CHUNK, aes._CHUNK + 16, 3 * aes._CHUNK + 48, 3 * aes._CHUNK + 7],
)
@pytest.mark.parametrize("name", BACKENDS)
def test_the_chain_is_right_across_the_workspace_chunks(name: str, size: int) -> None:
    """libcrypto copies the input into its thread's workspace a chunk at a time: every size
    around a chunk's edge (a trailing partial block ignored) equals the reference chain."""
    data = random.Random(size).randbytes(size)
    state = random.Random(-size).randbytes(16)
    h = state
    whole = data[: len(data) - len(data) % 16]
    for i in range(0, len(whole), 16):
        m = whole[i : i + 16]
        c = Cipher(algorithms.AES(h), modes.ECB()).encryptor().update(m)  # noqa: S305 - MMO is raw AES
        h = bytes(a ^ b for a, b in zip(c, m, strict=True))
    assert aes.get(name).compress(state, data) == h
    assert aes.get(name).compress(state, data) == h  # the workspace reused
