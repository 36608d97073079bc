"""Vendor recognisers (issue 13) on synthetic files: every layout, container, trailer and payload.

Expected values are computed here independently (zlib, hashlib, struct), and every
message is asserted word for word.  Real files are in test_vendor_corpus.py.
"""

from __future__ import annotations

import hashlib
import io
import random
import struct
import zlib

import pytest

from ota_action.errors import FormatError
from ota_action.formats.zigbee.checks import Level, check_image
from ota_action.formats.zigbee.containers import find_container
from ota_action.formats.zigbee.elements import SubElement
from ota_action.formats.zigbee.image import parse_image
from ota_action.formats.zigbee.layouts import detect_layout
from ota_action.formats.zigbee.payload import MAX_LISTED_TAGS, identify_payload
from ota_action.formats.zigbee.streams import FileSlice, crc32_range
from ota_action.formats.zigbee.trailers import find_trailer
from tests.vendor_files import (
    GBL_END,
    GBL_HEADER,
    analyse,
    ebl,
    ebl_tag,
    gbl,
    gbl_tag,
    hue_sbl,
    legrand,
    ngis,
    ota,
    salus,
    telink_ota,
    third_reality,
)

# --- payloads -------------------------------------------------------------------------


def test_gbl_payload_crc_and_tags() -> None:
    image = gbl(gbl_type=1)
    crc = zlib.crc32(image[:-4])
    a = analyse(ota([SubElement(0, image)]))
    assert [p.to_json() for p in a.payloads] == [
        {
            "format": "gbl",
            "valid": True,
            "details": {
                "version": "0x03000000",
                "type": 1,
                "crc32_stored": f"0x{crc:08X}",
                "crc32_computed": f"0x{crc:08X}",
                "bytes_after_end": 0,
                "tag_count": 3,
                "tags": [
                    {"tag": "0x03A617EB", "offset": 0, "length": 8},
                    {"tag": "0xFE0101FE", "offset": 16, "length": 300},
                    {"tag": "0xFC0404FC", "offset": 324, "length": 4},
                ],
            },
        }
    ]
    assert a.findings == []


def test_bad_gbl_crc_makes_the_file_invalid() -> None:
    image = gbl(bad_crc=True)
    good = zlib.crc32(image[:-4])
    a = analyse(ota([SubElement(0, image)]))
    assert a.payloads[0].valid is False
    assert a.codes() == [("error", "payload-crc")]
    assert a.messages("error") == [
        f"the upgrade image at offset 62: GBL CRC-32 does not match: the end tag holds "
        f"0x{good ^ 1:08X}, the image computes to 0x{good:08X}"
    ]


def test_ebl_payload_with_padding_and_salus_trailer() -> None:
    image = ebl()
    assert len(image) % 64 == 0
    end = image.index(b"\xfc\x04\x00\x04")
    crc = zlib.crc32(image[: end + 4])
    inner = ota([SubElement(0, image)])
    a = analyse(salus(inner))
    details = a.payloads[0].to_json()["details"]
    assert (a.payloads[0].format, a.payloads[0].valid) == ("ebl", True)
    assert details["encrypted"] is False
    assert details["crc32_stored"] == details["crc32_computed"] == f"0x{crc:08X}"
    assert details["bytes_after_end"] == len(image) - end - 8
    assert details["padding_is_ff"] is True
    assert a.trailer is not None
    assert a.trailer.to_json() == {
        "kind": "crc32-le",
        "valid": True,
        "offset": len(inner),
        "length": 4,
        "stored": f"0x{zlib.crc32(inner):08X}",
        "computed": f"0x{zlib.crc32(inner):08X}",
    }
    assert a.codes() == [("note", "trailer-crc32")]
    assert a.messages("note") == [
        f"the 4 bytes after the total image size {len(inner)} are the CRC-32 of the file before "
        f"them (0x{zlib.crc32(inner):08X}, the Salus convention) and it matches"
    ]


def test_encrypted_ebl_and_non_ff_padding_is_described_not_judged() -> None:
    a = analyse(ota([SubElement(0, ebl(encrypted=True, pad=0x00))]))
    payload = a.payloads[0]
    assert (payload.format, payload.valid) == ("ebl", True)
    assert payload.details["encrypted"] is True
    assert payload.details["padding_is_ff"] is False
    assert [t["tag"] for t in payload.details["tags"]] == ["0xFB05", "0xFA06", "0xF907", "0xFC04"]


def test_bad_ebl_crc() -> None:
    image = ebl(bad_crc=True)
    end = image.index(b"\xfc\x04\x00\x04")
    good = zlib.crc32(image[: end + 4])
    payload = identify_payload(io.BytesIO(image), 0, len(image))
    assert payload.valid is False
    assert payload.problem == (
        f"EBL CRC-32 does not match: the end tag holds 0x{good ^ 1:08X}, the image computes to 0x{good:08X}"
    )


def test_payload_is_identified_by_content_not_by_header_string() -> None:
    header_says_ebl = ota([SubElement(0, gbl())])
    assert analyse(header_says_ebl).payloads[0].format == "gbl"


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        (
            gbl_tag(GBL_HEADER, bytes(8)) + gbl_tag(0xFE0101FE, b"", length=0xFFFFFFF0),
            "GBL tag 0xFE0101FE at offset 16 claims 4294967280 bytes but only 0 remain in the "
            "24-byte upgrade image",
        ),
        (
            gbl_tag(GBL_HEADER, bytes(8)) + b"\x01\x02\x03",
            "GBL image is truncated: 3 bytes at offset 16 are too few for a 8-byte tag header",
        ),
        (gbl_tag(GBL_HEADER, bytes(8)), "GBL image ends at offset 16 without the end tag 0xFC0404FC"),
        (
            gbl_tag(GBL_HEADER, bytes(8)) + gbl_tag(GBL_END, bytes(5)),
            "GBL tag 0xFC0404FC at offset 16 (the end tag) has length 5, expected 4",
        ),
    ],
)
def test_gbl_structure_problems(image: bytes, problem: str) -> None:
    payload = identify_payload(io.BytesIO(image), 0, len(image))
    assert (payload.format, payload.valid, payload.problem) == ("gbl", False, problem)
    parsed = parse_image(ota([SubElement(0, image)]))
    findings = check_image(parsed, payloads=[identify_payload(io.BytesIO(image), 0, len(image))])
    assert [(f.code, f.message) for f in findings] == [
        ("payload-structure", f"the upgrade image at offset 0: {problem}")
    ]


def test_many_tiny_tags_are_counted_not_listed() -> None:
    count = 50_000
    # an EBL header tag (the image signature 0xE350 at offset 6), then zero-length tags
    image = struct.pack(">HH", 0, 4) + b"\x00\x00\xe3\x50" + b"\xfe\x01\x00\x00" * count
    body = image + struct.pack(">HH", 0xFC04, 4)
    image = body + struct.pack("<I", zlib.crc32(body))
    payload = identify_payload(io.BytesIO(image), 0, len(image))
    assert (payload.format, payload.valid) == ("ebl", True)
    assert payload.details["tag_count"] == count + 2
    assert len(payload.details["tags"]) == MAX_LISTED_TAGS


def test_a_telink_image_without_its_magic_is_invalid() -> None:
    """Issue 24 changed this one: the device refuses a Telink image without 5D 02 at offset 6
    (tests/test_telink.py has the rest), so a payload that was only described is now checked."""
    head = bytes(8) + b"KNLT" + bytes(12) + struct.pack("<I", 123456)
    payload = identify_payload(io.BytesIO(b"\xff" * 7 + head), 7, len(head))
    problem = "Telink image has no OTA magic 5D 02 at offset 6 (found 00 00): the device rejects it"
    assert payload.to_json() == {
        "format": "telink",
        "valid": False,
        "details": {"firmware_size": 123456, "version": "0x00000000", "problem": problem},
    }


@pytest.mark.parametrize(
    ("head", "fmt", "details"),
    [
        (bytes.fromhex("123456781122334455667788") + bytes(20), "nxp-jn51xx", {}),
        (
            b"CC26x2R1" + struct.pack("<I", 0xDEADBEEF) + bytes(12) + struct.pack("<I", 4096) + bytes(12),
            "ti",
            {"image_id": "CC26x2R1", "image_length": 4096, "crc32_stored": "0xDEADBEEF"},
        ),
        (
            struct.pack("<IIHHIIBBHI", 0x96F3B83D, 0, 32, 0, 5000, 0, 1, 2, 3, 4),
            "mcuboot",
            {"header_size": 32, "image_size": 5000, "version": "1.2.3+4"},
        ),
        (
            b"\xe9\x03"
            + bytes(10)
            + struct.pack("<H", 5)
            + bytes(18)
            + struct.pack("<I", 0xABCD5432)
            + bytes(12)
            + b"v1.0\x01\\".ljust(32, b"\0")
            + b"light\0junk".ljust(32, b"\0"),
            "esp",
            {"chip_id": 5, "version": "v1.0\\x01\\x5c", "project_name": "light"},
        ),
        (b"\x2a\x00\x01" + bytes(50), "unknown", {}),
        (b"", "unknown", {}),
    ],
)
def test_other_payload_formats_by_their_headers(head: bytes, fmt: str, details: dict[str, object]) -> None:
    data = b"\xff" * 7 + head + b"\x00" * 64
    payload = identify_payload(io.BytesIO(data), 7, len(head))
    assert payload.to_json() == {"format": fmt, "valid": None, "details": details}


# --- layouts --------------------------------------------------------------------------


def test_telink_layout() -> None:
    data = telink_ota(b"\x77" * 500, info=0x0C01)
    a = analyse(data)
    assert a.parsed.walk_problem == "2 stray bytes at offset 562, too few for a 6-byte tag header"
    assert a.layout.to_json() == "telink-encrypted"
    assert [(e.tag, e.offset, e.length, e.end) for e in a.layout.elements] == [(0xF000, 56, 502, 564)]
    assert a.layout.payloads == ((64, 500),)
    assert a.codes() == [("warning", "layout-telink")]
    assert a.messages("warning") == [
        "Telink encrypted layout: the 0xF000 element at offset 56 has a 2-byte tag info (0x0C01) "
        "between its length field (500) and its data, so it is 2 bytes longer than the standard "
        "layout allows"
    ]


def test_hue_sbl_layout() -> None:
    data = hue_sbl()
    a = analyse(data)
    assert a.layout.to_json() == "hue-sbl"
    assert a.layout.elements == ()
    assert a.layout.payloads == ((56, len(data) - 56),)
    assert a.messages("warning") == [
        f"Philips Hue SBL layout: no sub-elements; the raw image follows the header from offset 56 "
        f"to the total image size {len(data)}"
    ]
    assert not a.messages("error")


def test_hue_magic_from_another_manufacturer_stays_a_broken_standard_file() -> None:
    data = bytearray(hue_sbl())
    struct.pack_into("<H", data, 10, 0x1234)
    a = analyse(bytes(data))
    assert a.layout.name == "standard"
    assert a.codes() == [("error", "sub-elements")]


def test_truncated_hue_file_says_what_happened() -> None:
    data = hue_sbl()[:-10]
    a = analyse(data)
    assert a.layout.name == "hue-sbl"
    assert (
        a.layout.problem
        == f"total image size {len(data) + 10} is beyond the end of the {len(data)}-byte file"
    )


def test_standard_file_stays_standard() -> None:
    a = analyse(ota([SubElement(0xF000, b"ab"), SubElement(0, gbl())]))
    assert a.layout.name == "standard"
    assert a.layout.payloads == ((62 + 8, len(gbl())),)
    assert a.findings == []


def test_telink_rewalk_that_does_not_fit_stays_standard() -> None:
    data = bytearray(telink_ota())
    struct.pack_into("<I", data, 58, 499)  # now 1 byte short under either reading
    a = analyse(bytes(data))
    assert a.layout.name == "standard"
    assert a.codes() == [("error", "sub-elements")]


# --- tags -----------------------------------------------------------------------------


def test_repeated_and_reserved_tags() -> None:
    a = analyse(
        ota(
            [
                SubElement(0xF006, b"a"),
                SubElement(0xF006, b"b"),
                SubElement(0xCDEF, b"c"),
                SubElement(0x0100, b""),
            ]
        )
    )
    assert a.codes() == [
        ("warning", "duplicate-tag"),
        ("warning", "reserved-tag"),
        ("warning", "reserved-tag"),
    ]
    assert a.messages("warning") == [
        "tag 0xF006 (manufacturer-specific) appears 2 times",
        "tag 0x0100 is in the reserved range 0x0007-0xEFFF, which the specification keeps for future use",
        "tag 0xCDEF is in the reserved range 0x0007-0xEFFF, which the specification keeps for future use",
    ]


def test_repeated_integrity_code_stays_an_error() -> None:
    a = analyse(ota([SubElement(3, bytes(16)), SubElement(3, bytes(16))]))
    assert ("error", "duplicate-tag") in a.codes()
    assert "tag 0x0003 (image integrity code) appears 2 times" in a.messages("error")


# --- containers -----------------------------------------------------------------------


def test_ikea_ngis_container() -> None:
    inner = ota([SubElement(0, gbl())])
    data = ngis(inner)
    a = analyse(data)
    assert a.container is not None
    assert a.container.to_json() == {
        "kind": "ikea-ngis",
        "offset": 616,
        "length": len(inner),
        "trailer_length": 512,
        "valid": None,
    }
    assert a.parsed.header.manufacturer_code == 0x1234
    assert (a.payloads[0].format, a.payloads[0].valid) == ("gbl", True)
    assert a.messages("note") == [
        f"the OTA file is inside an IKEA NGIS container: {len(inner)} bytes at offset 616, with a "
        "512-byte trailer after it; the container has nothing ota-action can check"
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ((10, 100), "IKEA NGIS container: inner file offset 10 points inside the 28-byte container header"),
        (
            (616, 5000),
            "IKEA NGIS container: inner file at offset 616 with length 5000 runs past the end "
            "of the 1526-byte file",
        ),
        ((600, 100), "IKEA NGIS container: no Zigbee OTA file at offset 600 (found abababab)"),
        ((616, 0), "IKEA NGIS container: no Zigbee OTA file at offset 616 (found nothing)"),
    ],
)
def test_ngis_with_lying_fields(fields: tuple[int, int], message: str) -> None:
    data = bytearray(ngis(ota([SubElement(0, gbl())])))
    struct.pack_into("<II", data, 16, *fields)
    with pytest.raises(FormatError) as caught:
        find_container(io.BytesIO(bytes(data)), len(data))
    assert caught.value.message == message


def test_short_ngis() -> None:
    with pytest.raises(FormatError) as caught:
        find_container(io.BytesIO(b"NGIS\x00"), 5)
    assert (
        caught.value.message
        == "IKEA NGIS container: file is 5 bytes, too short for the 28-byte container header"
    )


def test_legrand_container() -> None:
    inner = ota([SubElement(0, gbl())])
    a = analyse(legrand(inner))
    assert a.container is not None
    assert a.container.to_json() == {
        "kind": "legrand",
        "offset": 4,
        "length": len(inner),
        "trailer_length": 17,
        "valid": None,
    }
    assert a.messages("note") == [
        f"the OTA file is inside a Legrand container: {len(inner)} bytes at offset 4, with a "
        "17-byte trailer after it; the container has nothing ota-action can check"
    ]


def test_prefix_must_state_the_inner_size() -> None:
    inner = ota([SubElement(0, gbl())])
    for prefix in (struct.pack("<I", len(inner) + 1), struct.pack("<I", 7)):
        data = prefix + inner
        assert find_container(io.BytesIO(data), len(data)) is None
    two_bytes_before = b"\x00\x00" + inner
    assert find_container(io.BytesIO(two_bytes_before), len(two_bytes_before)) is None


def test_third_reality_container() -> None:
    inner = ota([SubElement(0, gbl())])
    data = third_reality(inner)
    assert hashlib.sha512(data[64:]).digest() == data[:64]
    a = analyse(data)
    assert a.container is not None
    assert a.container.to_json() == {
        "kind": "third-reality",
        "offset": 152,
        "length": len(inner),
        "trailer_length": 0,
        "valid": True,
    }
    assert a.messages("note") == [
        f"the OTA file is inside a Third Reality container: {len(inner)} bytes at offset 152; "
        "the container's SHA-512 matches"
    ]
    bad = analyse(third_reality(inner, corrupt=True))
    assert bad.messages("error") == [
        f"the OTA file is inside a Third Reality container: {len(inner)} bytes at offset 152; "
        "the container's SHA-512 does not match its contents"
    ]


def test_plain_and_foreign_files_have_no_container() -> None:
    plain = ota([SubElement(0, b"x")])
    assert find_container(io.BytesIO(plain), len(plain)) is None
    for junk in (b"", b"\x7fELF" + bytes(200), b"PK\x03\x04" + plain):
        assert find_container(io.BytesIO(junk), len(junk)) is None


# --- trailers -------------------------------------------------------------------------


def test_salus_crc_mismatch_is_an_error_for_salus() -> None:
    inner = ota([SubElement(0, b"x")], manufacturer=0x1078)
    crc = zlib.crc32(inner)
    a = analyse(salus(inner, bad=True))
    assert a.trailer is not None
    assert (a.trailer.kind, a.trailer.valid) == ("crc32-le", False)
    assert a.codes() == [("error", "trailer-crc32")]
    assert a.messages("error") == [
        f"the 4 bytes after the total image size {len(inner)} should be the CRC-32 of the file "
        f"before them (the Salus convention) but hold 0x{crc ^ 1:08X}; the file computes to 0x{crc:08X}"
    ]


def test_other_trailing_bytes_stay_a_warning() -> None:
    inner = ota([SubElement(0, b"x")])
    four = analyse(salus(inner, bad=True))
    assert four.trailer is not None
    assert (four.trailer.kind, four.trailer.valid) == ("unknown", None)
    assert four.messages("warning") == [
        f"4 bytes after the total image size {len(inner)} are not part of the image "
        f"(nor a CRC-32 of it, which is 0x{zlib.crc32(inner):08X})"
    ]
    eight = analyse(inner + bytes(8))
    assert eight.trailer is not None
    assert eight.trailer.to_json() == {
        "kind": "unknown",
        "valid": None,
        "offset": len(inner),
        "length": 8,
        "stored": None,
        "computed": None,
    }
    assert eight.messages("warning") == [
        f"8 bytes after the total image size {len(inner)} are not part of the image"
    ]


def test_no_trailer() -> None:
    inner = ota([SubElement(0, b"x")])
    assert find_trailer(io.BytesIO(inner), len(inner), len(inner)) is None
    assert find_trailer(io.BytesIO(inner), len(inner) + 50, len(inner)) is None


# --- streams --------------------------------------------------------------------------


def test_file_slice_and_chunked_crc() -> None:
    data = bytes(range(256)) * 10
    view = FileSlice(io.BytesIO(data), 100, 50)
    assert view.read(10) == data[100:110]
    assert view.seek(0, io.SEEK_END) == 50
    assert view.read() == b""
    view.seek(45)
    assert view.read(100) == data[145:150]
    assert crc32_range(io.BytesIO(data), 3, 2000) == zlib.crc32(data[3:2000])


# --- fuzzing --------------------------------------------------------------------------


def _mutations(seed: int, base: bytes, rounds: int) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for _ in range(rounds):
        data = bytearray(base)
        for _ in range(rng.randint(1, 8)):
            where = rng.randrange(len(data))
            if rng.random() < 0.5:
                data[where] = rng.randrange(256)
            else:
                struct.pack_into(
                    "<I",
                    data,
                    min(where, len(data) - 4),
                    rng.choice([0, 1, 0xFFFFFFFF, rng.randrange(1 << 32)]),
                )
        if rng.random() < 0.2:
            del data[rng.randrange(len(data)) :]
        out.append(bytes(data))
    return out


SEEDS = {
    "gbl": ota([SubElement(0, gbl())]),
    "ebl-salus": salus(ota([SubElement(0, ebl())], manufacturer=0x1078)),
    "telink": telink_ota(),
    "hue": hue_sbl(),
    "ngis": ngis(ota([SubElement(0, gbl())])),
    "legrand": legrand(ota([SubElement(0, ebl(encrypted=True))])),
    "third-reality": third_reality(ota([SubElement(0, gbl())])),
}


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_fuzz_recognisers(name: str) -> None:
    broken: list[str] = []
    for data in _mutations(zlib.crc32(name.encode()), SEEDS[name], 150):
        f = io.BytesIO(data)
        try:
            container = find_container(f, len(data))
        except FormatError as error:
            broken.append(error.message)
            continue
        inner = container.open(f) if container else f
        size = container.length if container else len(data)
        inner.seek(0)
        try:
            parsed = parse_image(inner.read())
        except FormatError:
            continue
        layout = detect_layout(inner, parsed.header, parsed.elements, parsed.walk_problem, size)
        trailer = find_trailer(inner, parsed.header.total_image_size, size, manufacturer_code=0x1078)
        payloads = [identify_payload(inner, o, n) for o, n in layout.payloads]
        for payload in payloads:
            assert len(payload.details.get("tags", ())) <= MAX_LISTED_TAGS
            assert (payload.valid is False) == (payload.problem is not None)
        findings = check_image(parsed, layout=layout, container=container, trailer=trailer, payloads=payloads)
        assert all(f.level in Level for f in findings)
    assert all(message.startswith("IKEA NGIS container: ") for message in broken)


def test_fuzz_payloads_with_random_bytes() -> None:
    rng = random.Random(13)
    for _ in range(300):
        start = rng.choice([b"\xeb\x17\xa6\x03", b"\x00\x00\x00\x8c\x02\x01\xe3\x50", b"\xfb\x05", b""])
        data = start + rng.randbytes(rng.randrange(200))
        # lengths that lie in both directions: the range may run past the end of the file
        payload = identify_payload(io.BytesIO(data), 0, len(data) + rng.choice([0, 0, 5, 1 << 40]))
        assert payload.format in {"gbl", "ebl", "telink", "nxp-jn51xx", "ti", "mcuboot", "esp", "unknown"}


@pytest.mark.parametrize("gbl", [True, False], ids=["gbl", "ebl"])
@pytest.mark.parametrize("seed", range(6))
def test_the_walk_crc_equals_zlib_over_the_image_whatever_the_tag_sizes(gbl: bool, seed: int) -> None:
    """The walk folds its buffer into the CRC-32 only when it refills or ends: with tags of
    every size (many small, some past the 64 KiB buffer, one past the 1 MiB read chunk), its
    CRC equals zlib's over the image before the CRC value, and one flipped byte anywhere
    is found."""
    from ota_action.formats.zigbee.silabs import walk_silabs

    rng = random.Random(seed)
    limit = 0xFFFF if not gbl else (1 << 21)
    sizes = [
        rng.choice([0, 1, 15, 16, 100, 128, 4000, 65_535, 65_537]) for _ in range(rng.randrange(20, 400))
    ]
    if gbl and seed % 2:
        sizes.append((1 << 20) + 3)
    pack = gbl_tag if gbl else ebl_tag
    first = pack(0x03A617EB if gbl else 0x0000, bytes(8) if gbl else bytes(140))
    body = first + b"".join(pack(0x0000F40F if gbl else 0xFE01, rng.randbytes(min(n, limit))) for n in sizes)
    body += struct.pack("<II", 0xFC0404FC, 4) if gbl else struct.pack(">HH", 0xFC04, 4)
    image = body + struct.pack("<I", zlib.crc32(body))
    found = walk_silabs(io.BytesIO(image), 0, len(image), gbl=gbl)
    assert (found.problem, found.crc32_computed) == (None, zlib.crc32(body))
    flipped = bytearray(image)
    flipped[rng.randrange(len(first), len(body) - 8)] ^= 0x01  # inside a tag's value or header
    bad = walk_silabs(io.BytesIO(bytes(flipped)), 0, len(flipped), gbl=gbl)
    assert bad.problem is not None
