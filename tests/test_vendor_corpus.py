"""Vendor recognisers on the real files of the ota-vendor corpus (issue 13), when the corpus is on.

The folder is the entry of ``OTA_TEST_CORPUS`` (``os.pathsep``-separated) whose basename
is ``ota-vendor`` (the ``corpus_dir`` fixture of conftest.py: deselected when the corpus is
off, a failure when it is on and the folder is missing; never a skip).  Expected values come from the
corpus MANIFEST.md and from independent computation: zlib directly for every CRC-32,
zigpy as the oracle for header fields, layouts and Silicon Labs payload validity.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CorpusDir
from tests.vendor_files import analyse


@pytest.fixture
def vendor(corpus_dir: CorpusDir) -> Path:
    """The ota-vendor folder: deselected when the corpus is off, a failure (never a skip) if missing."""
    return corpus_dir("ota-vendor")


IKEA = "10082264-zingo_lds_stoftmoln-1.1.7.ota.ota.signed"
DRESDEN = "1135-0000-201000F8-FLS-PP3_RGBW_16Mhz.zigbee"
LUMI = "20220607175331_OTA_lumi.switch.acn029_0.0.0_211551_20220217_08B622.ota"
LEDVANCE = "A60_DIM_T-0x00CD-0x03483712-MF_DIS.OTA"
SALUS = "CSB600_20170209.ota"
HUE = "ConnectedLamp-Atmel-Target_0012.sbl-ota"
JASCO = "Jasco_5_0_1_OnOff_45856_v6.ota"
AEOTEC = "Pico_Duo_Switch_V1.0.6.ota"
SONOFF = "SN-TLSR8258-SWV2C-01-v1.0.9.ota"
BOSCH = "WLS_553805664.fw"
DATEK = "dimmerpille_v2_0_v_4_combined_OTA.ota"

# name: (file size, layout, container or None, payload formats, findings as (level, code))
EXPECTED: dict[str, tuple[int, str, dict[str, Any] | None, list[str], list[tuple[str, str]]]] = {
    IKEA: (
        288306,
        "standard",
        {"kind": "ikea-ngis", "offset": 616, "length": 287178, "trailer_length": 512, "valid": None},
        ["gbl"],
        [("note", "container")],
    ),
    DRESDEN: (202909, "standard", None, ["unknown"], []),
    LUMI: (322672, "standard", None, ["unknown"], [("warning", "duplicate-tag")]),
    LEDVANCE: (241408, "telink-encrypted", None, ["unknown"], [("warning", "layout-telink")]),
    SALUS: (185324, "standard", None, ["ebl"], [("note", "trailer-crc32")]),
    HUE: (256696, "hue-sbl", None, ["unknown"], [("warning", "layout-hue-sbl")]),
    JASCO: (162306, "standard", None, ["ebl"], [("note", "trailer-crc32")]),
    AEOTEC: (311594, "standard", None, ["gbl"], []),
    SONOFF: (181584, "telink-encrypted", None, ["unknown"], [("warning", "layout-telink")]),
    BOSCH: (213978, "standard", None, ["gbl"], []),
    DATEK: (297862, "standard", None, ["gbl"], [("error", "sub-elements")]),
}

MESSAGES = {
    IKEA: [
        "the OTA file is inside an IKEA NGIS container: 287178 bytes at offset 616, with a 512-byte "
        "trailer after it; the container has nothing ota-action can check"
    ],
    LUMI: ["tag 0xF006 (manufacturer-specific) appears 2 times"],
    LEDVANCE: [
        "Telink encrypted layout: the 0xF000 element at offset 56 has a 2-byte tag info (0x0C01) "
        "between its length field (241344) and its data, so it is 2 bytes longer than the "
        "standard layout allows"
    ],
    SONOFF: [
        "Telink encrypted layout: the 0xF000 element at offset 56 has a 2-byte tag info (0x0C01) "
        "between its length field (181520) and its data, so it is 2 bytes longer than the "
        "standard layout allows"
    ],
    SALUS: [
        "the 4 bytes after the total image size 185320 are the CRC-32 of the file before them "
        "(0x30AB9FD7, the Salus convention) and it matches"
    ],
    JASCO: [
        "the 4 bytes after the total image size 162302 are the CRC-32 of the file before them "
        "(0xAF089924, the Salus convention) and it matches"
    ],
    HUE: [
        "Philips Hue SBL layout: no sub-elements; the raw image follows the header from offset 56 "
        "to the total image size 256696"
    ],
    DATEK: [
        "sub-element 0x940C at offset 265094 claims 2483814528 bytes and runs 2483781766 bytes past "
        "the total image size 297862"
    ],
    DRESDEN: [],
    AEOTEC: [],
    BOSCH: [],
}

# Silicon Labs payloads: (CRC-32 stored = computed, tag count, bytes after the end tag)
SILABS = {
    IKEA: ("0x3689D075", 5, 0),
    AEOTEC: ("0x6035D834", 5, 0),
    BOSCH: ("0xDF2756FD", 7, 0),
    DATEK: ("0xFCBA5608", 5, 2),
    SALUS: ("0x7C9F25BA", 95, 0),
    JASCO: ("0xF7E0883A", 81, 36),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_vendor_file(vendor: Path, name: str) -> None:
    data = (vendor / name).read_bytes()
    size, layout, container, formats, codes = EXPECTED[name]
    a = analyse(data)
    assert len(data) == size
    assert a.layout.to_json() == layout
    assert (a.container.to_json() if a.container else None) == container
    assert [p.format for p in a.payloads] == formats
    assert a.codes() == codes
    assert [f.message for f in a.findings] == MESSAGES[name]
    if name in SILABS:
        crc, tags, after = SILABS[name]
        details = a.payloads[0].details
        assert a.payloads[0].valid is True
        assert (details["crc32_stored"], details["crc32_computed"]) == (crc, crc)
        assert (details["tag_count"], details["bytes_after_end"]) == (tags, after)


def test_ikea_inner_file_matches_the_manifest(vendor: Path) -> None:
    a = analyse((vendor / IKEA).read_bytes())
    h = a.parsed.header
    assert (h.manufacturer_code, h.image_type, h.file_version) == (0x117C, 0x4105, 0x01010007)
    assert h.total_image_size == 287178


@pytest.mark.parametrize("name", [SALUS, JASCO])
def test_salus_trailer_is_zlib_crc_of_the_file(vendor: Path, name: str) -> None:
    data = (vendor / name).read_bytes()
    a = analyse(data)
    total = a.parsed.header.total_image_size
    assert len(data) - total == 4
    assert a.trailer is not None
    assert (a.trailer.kind, a.trailer.valid) == ("crc32-le", True)
    assert a.trailer.stored == int.from_bytes(data[total:], "little") == zlib.crc32(data[:total])


@pytest.mark.parametrize("name", sorted(SILABS))
def test_silabs_crc_residue_with_zlib(vendor: Path, name: str) -> None:
    """The whole GBL/EBL up to and including the end tag's value has zigpy's CRC residue."""
    data = (vendor / name).read_bytes()
    a = analyse(data)
    base = a.container.offset if a.container else 0
    payload = a.payloads[0]
    end = payload.length - payload.details["bytes_after_end"]
    start = base + payload.offset
    assert zlib.crc32(data[start : start + end]) == 0x2144DF1C


def test_zigpy_agrees(vendor: Path) -> None:
    from zigpy.ota import image as image_module
    from zigpy.ota import validators

    for name in sorted(EXPECTED):
        if name == DATEK:
            continue  # zigpy rejects it too
        data = (vendor / name).read_bytes()
        ours = analyse(data)
        image, _rest = image_module.parse_ota_image(data)
        assert image.header.manufacturer_id == ours.parsed.header.manufacturer_code, name
        assert image.header.image_size == ours.parsed.header.total_image_size, name
        kind = type(image).__name__
        expected = {"hue-sbl": "HueSBLOTAImage", "telink-encrypted": "TelinkOTAImage"}.get(
            ours.layout.name, "OTAImage"
        )
        assert kind == expected, name
        zigpy_valid = validators.validate_ota_image(image)
        if name in (AEOTEC, BOSCH, JASCO, IKEA):
            assert zigpy_valid == validators.ValidationResult.VALID, name


def test_dresden_header_string_stops_at_the_nul(vendor: Path) -> None:
    data = (vendor / DRESDEN).read_bytes()
    a = analyse(data)
    raw = data[20:52]
    assert a.parsed.header.header_string == raw
    assert a.parsed.header.header_string_text == raw.split(b"\0", 1)[0].decode("ascii")
