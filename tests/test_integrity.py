"""AES-MMO against every published and reference vector, on both AES backends."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ota_action.formats.zigbee import integrity
from ota_action.formats.zigbee.integrity import (
    IntegrityVariant,
    aes_mmo,
    integrity_ranges,
    match_integrity,
    mmo_padding,
)


def seq(n: int) -> bytes:
    return bytes(i % 256 for i in range(n))


def available_backends() -> list[str]:
    names = ["cryptography"]
    try:
        integrity.backend("libcrypto")
        names.append("libcrypto")
    except RuntimeError:
        pass
    return names


BACKENDS = available_backends()

# Zigbee spec 05-3474 Annex C.5, BDB 13-0402, zigpy and zsmartsystems test suites.
PUBLISHED = [
    (bytes.fromhex("C0"), "AE3A102A28D43EE0D4A09E22788B206C"),
    (bytes(range(0xC0, 0xD0)), "A7977E88BC0B61E8210827109A228F2D"),
    (seq(8191), "24EC2FE75BBFFCB34789BC0610E7F165"),
    (seq(8192), "DC6B0687F09F8607131C170B3BD31591"),
    (seq(8201), "72C9B15E178AA843E4A16C58E33643A3"),
    (seq(8202), "BC9828D59B2AA323DAF20BE5F2E66511"),
    (bytes.fromhex("83FED3407A939723A5C639B26916D505C3B5"), "66B6900981E1EE3CA4206B6B861C02BB"),
    (bytes.fromhex("11223344556677884AF7"), "41618FC0C83B0E14A589954B16E31466"),
    (bytes.fromhex("7A939723A5C639B269161802819B"), "F93903721685FD329D26849B90F2959A"),
    (bytes.fromhex("83FED3407A939723A5C639B269161802AEBB"), "333C23686079468EB27BA24BD9C7E564"),
    (bytes.fromhex("83FED3407A939738C552"), "A833A77434F3BFBD7A7AB97942149287"),
]

# Boundary vectors over seq(n), computed by two independent implementations.
BOUNDARY = {
    0: "bad78e726c1ec02b7ebfe92b23d9ec34",
    13: "3ef02c344cb836f76abcfacdc80c5ed4",
    14: "d2d987af392a74aa2350be20253b9e18",
    15: "f688be4220fb747774fadf5f71cc0db2",
    32: "6229a71f6157ddb5deba002edaac3752",
    8180: "1dbecc02975e26a8874c58fdde5da054",
    8193: "21fecadecd1af7c33ae5be9c3a584bb5",
    8203: "8a8ddd2388317fbac5941c277a7f2174",
    65535: "12751f98396970116996acd2d97a9b55",
    65536: "6eebcd05868daa107ec67666b53ec5a2",
    70000: "b6bfce733eb76afdbd160ff990a6403f",
}

# What a short-form-only implementation (zigpy) gives: we must never produce these.
WRONG_SHORT_FORM = {
    8192: "5c9fe131087bd5b94afbc4d2592e3dee",
    8201: "9eb9bd0a778f67b702aaf28d7c4943e3",
    8202: "adaafe8ccc32610ab5259e29c09b0d60",
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("message", "digest"), PUBLISHED, ids=lambda v: str(len(v)) if isinstance(v, bytes) else ""
)
def test_published_vectors(backend: str, message: bytes, digest: str) -> None:
    assert aes_mmo(message, backend_name=backend).hex() == digest.lower()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("length", "digest"), sorted(BOUNDARY.items()))
def test_boundary_vectors(backend: str, length: int, digest: str) -> None:
    assert aes_mmo(seq(length), backend_name=backend).hex() == digest


@pytest.mark.parametrize(("length", "wrong"), sorted(WRONG_SHORT_FORM.items()))
def test_long_form_is_not_the_short_form_mistake(length: int, wrong: str) -> None:
    assert aes_mmo(seq(length)).hex() != wrong
    assert aes_mmo(seq(length), short_form_only=True).hex() == wrong


@pytest.mark.parametrize("backend", BACKENDS)
def test_random_one_mebibyte(backend: str) -> None:
    data = random.Random(1).randbytes(1 << 20)
    assert aes_mmo(data, backend_name=backend).hex() == "e9dd23c915a778ce9e7689ca488dbb2e"


def test_random_sixteen_mebibytes() -> None:
    data = random.Random(1).randbytes(16 << 20)
    assert aes_mmo(data).hex() == "15b6acb2b2149b4e360412c1008edbad"


def test_memoryview_input_equals_bytes() -> None:
    data = seq(9000)
    assert aes_mmo(memoryview(data)[:8192]) == aes_mmo(data[:8192])


@pytest.mark.parametrize(
    ("length", "padded"),
    [(0, 16), (13, 16), (14, 32), (15, 32), (16, 32), (8191, 8208), (8192, 8208), (8201, 8208), (8202, 8224)],
)
def test_padding_sizes(length: int, padded: int) -> None:
    assert length + len(mmo_padding(length)) == padded


def test_padding_switches_form_exactly_at_8192() -> None:
    assert mmo_padding(8191)[-2:] == (8191 * 8).to_bytes(2, "big")
    assert mmo_padding(8192)[-6:] == (8192 * 8).to_bytes(4, "big") + b"\0\0"


def test_input_limit() -> None:
    with pytest.raises(ValueError, match="too long"):
        mmo_padding(1 << 29)


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown AES backend"):
        aes_mmo(b"", backend_name="rot13")


def test_range_order_reports_standard_first() -> None:
    assert [v for v, _, _ in integrity_ranges(100)] == [
        IntegrityVariant.STANDARD,
        IntegrityVariant.COVERS_TAG_HEADER,
        IntegrityVariant.SHORT_PADDING_ONLY,
    ]


def test_short_inputs_where_a_and_b_agree_report_standard() -> None:
    data = seq(500) + b"\x03\x00\x10\x00\x00\x00"
    stored = aes_mmo(data[:500])
    assert stored == aes_mmo(data[:500], short_form_only=True)
    assert match_integrity(data, 500, stored) is IntegrityVariant.STANDARD


@pytest.mark.parametrize("length", [8192, 9000, 20000])
def test_synthetic_image_of_each_variant_is_recognised(length: int) -> None:
    """Beyond 8191 bytes the three rules give three different codes; each is told apart."""
    data = seq(length) + b"\x03\x00\x10\x00\x00\x00"
    codes = {
        IntegrityVariant.STANDARD: aes_mmo(data[:length]),
        IntegrityVariant.COVERS_TAG_HEADER: aes_mmo(data[: length + 6]),
        IntegrityVariant.SHORT_PADDING_ONLY: aes_mmo(data[:length], short_form_only=True),
    }
    assert len(set(codes.values())) == 3
    for variant, stored in codes.items():
        assert match_integrity(data, length, stored) is variant
    assert match_integrity(data, length, bytes(16)) is None


# Digests of real files, collected only with the corpus switched on (OTA_TEST_CORPUS); the
# same variants are covered above with synthetic inputs on a fresh clone.


def test_silabs_sample_digest(corpus: Path) -> None:
    data = (corpus / "ota-static-sample.ota").read_bytes()
    assert aes_mmo(data[:140]).hex() == "e26a886e8030458da084586f2dcb08a2"


def test_ubisys_rule_a_and_rule_c_range(corpus: Path) -> None:
    data = (corpus / "10F2-7B2A-0000-0005-02010230-m7b-r0.ota.zigbee").read_bytes()
    assert aes_mmo(data[:114152]).hex() == "41344c379b42665064df67761db60146"
    assert aes_mmo(data[:114158]).hex() == "0a103f230022a6502737aebe925e8e8f"


def test_develco_rule_b(corpus: Path) -> None:
    data = (corpus / "HumiditySensor_4.0.3.zigbee").read_bytes()
    assert aes_mmo(data[:189713], short_form_only=True).hex() == "cd014ed05489901dbdf295b6e7a616cd"
    assert match_integrity(data, 189713, data[189719:189735]) is IntegrityVariant.SHORT_PADDING_ONLY
