"""Every vendor layout, container, trailer and payload through ``verify``/``inspect`` (issue 13).

The files are built by tests/vendor_files.py from the conventions' descriptions; expected
values are computed here with zlib/hashlib/struct, and every message is asserted word for
word.  The same checks on the real files are at the end (the ``ota-vendor`` corpus).
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from ota_action.formats.zigbee.elements import SubElement
from tests.conftest import CorpusDir, run_cli
from tests.test_vendor_corpus import DATEK, EXPECTED, MESSAGES
from tests.vendor_files import ebl, gbl, hue_sbl, legrand, ngis, ota, salus, telink_ota, third_reality


def verify(
    tmp_path: Path, data: bytes, name: str = "f.ota", command: str = "verify"
) -> tuple[int, dict[str, Any]]:
    path = tmp_path / name
    path.write_bytes(data)
    result = run_cli(command, path, "--json")
    assert result.err == ""
    return result.code, json.loads(result.out)


def codes(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["level"], f["code"]) for f in report["findings"]]


def gbl_payload(image: bytes, offset: int) -> dict[str, Any]:
    crc = f"0x{zlib.crc32(image[:-4]):08X}"
    return {
        "format": "gbl",
        "valid": True,
        "details": {
            "version": "0x03000000",
            "type": 0,
            "crc32_stored": crc,
            "crc32_computed": crc,
            "bytes_after_end": 0,
            "tag_count": 3,
            "tags": [
                {"tag": "0x03A617EB", "offset": 0, "length": 8},
                {"tag": "0xFE0101FE", "offset": 16, "length": 300},
                {"tag": "0xFC0404FC", "offset": 324, "length": 4},
            ],
        },
    }


def test_standard_file_has_the_new_keys(tmp_path: Path) -> None:
    code, report = verify(tmp_path, ota([SubElement(0, b"\x01" * 50)]))
    assert code == 0
    assert {k: report[k] for k in ("layout", "container", "trailer", "payload", "payloads")} == {
        "layout": "standard",
        "container": None,
        "trailer": None,
        "payload": {"format": "unknown", "valid": None, "details": {}},
        "payloads": [{"format": "unknown", "valid": None, "details": {}}],
    }


def test_telink_is_valid_with_a_warning_naming_the_layout(tmp_path: Path) -> None:
    code, report = verify(tmp_path, telink_ota(b"\x77" * 500, info=0x0C01))
    assert code == 0
    assert report["layout"] == "telink-encrypted"
    assert report["warnings"] == [
        "Telink encrypted layout: the 0xF000 element at offset 56 has a 2-byte tag info (0x0C01) "
        "between its length field (500) and its data, so it is 2 bytes longer than the standard "
        "layout allows"
    ]
    assert codes(report) == [("warning", "layout-telink")]
    assert report["sub_elements"] == [
        {"tag": 0xF000, "length": 502, "offset": 56, "data_offset": 62, "name": "manufacturer-specific"}
    ]
    assert report["payloads"] == [{"format": "unknown", "valid": None, "details": {}}]
    text = run_cli("verify", tmp_path / "f.ota").out
    assert "\nLayout: telink-encrypted\n" in text


def test_hue_sbl_is_recognised_and_named(tmp_path: Path) -> None:
    code, report = verify(tmp_path, hue_sbl(), "lamp.sbl-ota")
    assert code == 0
    assert (report["layout"], report["sub_elements"], report["sub_elements_total"]) == ("hue-sbl", [], 0)
    assert report["warnings"] == [
        "Philips Hue SBL layout: no sub-elements; the raw image follows the header from offset 56 "
        "to the total image size 459"
    ]


@pytest.mark.parametrize(
    ("wrap", "container"),
    [
        (ngis, {"kind": "ikea-ngis", "offset": 616, "length": 398, "trailer_length": 512, "valid": None}),
        (legrand, {"kind": "legrand", "offset": 4, "length": 398, "trailer_length": 17, "valid": None}),
        (
            third_reality,
            {"kind": "third-reality", "offset": 152, "length": 398, "trailer_length": 0, "valid": True},
        ),
    ],
)
def test_containers_are_opened_and_the_inner_file_verified(tmp_path: Path, wrap: Any, container: Any) -> None:
    image = gbl()
    inner = ota([SubElement(0, image)])
    data = wrap(inner)
    code, report = verify(tmp_path, data, "signed.ota.signed")
    assert code == 0
    assert report["container"] == container
    assert report["sha256"] == hashlib.sha256(data).hexdigest()  # the file as given
    assert report["file_size"] == len(inner) == report["total_image_size"]
    assert report["payload"] == gbl_payload(image, 62)
    kind = {"ikea-ngis": "an IKEA NGIS", "legrand": "a Legrand", "third-reality": "a Third Reality"}
    where = f"398 bytes at offset {container['offset']}"
    text = f"the OTA file is inside {kind[container['kind']]} container: {where}"
    if container["trailer_length"]:
        text += f", with a {container['trailer_length']}-byte trailer after it"
    text += (
        "; the container's SHA-512 matches"
        if container["valid"]
        else "; the container has nothing ota-action can check"
    )
    assert report["findings"] == [{"level": "note", "code": "container", "message": text}]
    assert (report["warnings"], report["errors"]) == ([], [])
    out = run_cli("verify", tmp_path / "signed.ota.signed").out
    assert all(len(line) <= 100 for line in out.splitlines() if not line.startswith("File: "))
    lines = out.replace("\n    ", " ").splitlines()  # findings are folded at 100 columns
    assert f"note: {text}" in lines
    assert f"File: {tmp_path / 'signed.ota.signed'}" in lines
    assert f"  {len(data)} bytes, SHA-256 {report['sha256']}" in lines


def test_third_reality_with_a_wrong_sha512_is_invalid(tmp_path: Path) -> None:
    code, report = verify(tmp_path, third_reality(ota([SubElement(0, gbl())]), corrupt=True))
    assert code == 1
    assert report["errors"] == [
        "the OTA file is inside a Third Reality container: 398 bytes at offset 152; the container's "
        "SHA-512 does not match its contents"
    ]


def test_broken_ngis_container_is_a_format_error(tmp_path: Path) -> None:
    data = bytearray(ngis(ota([SubElement(0, gbl())])))
    struct.pack_into("<I", data, 20, 10**6)
    path = tmp_path / "bad.ota.signed"
    path.write_bytes(bytes(data))
    result = run_cli("verify", path)
    assert result.code == 1
    assert result.err == (
        f"ota-action verify: error: FILE '{path}': IKEA NGIS container: inner file at offset 616 with "
        f"length 1000000 runs past the end of the {len(data)}-byte file\n"
    )


def test_neither_ota_nor_container_stays_not_a_zigbee_ota_file(tmp_path: Path) -> None:
    path = tmp_path / "x.ota"
    path.write_bytes(b"\x00" * 200)
    result = run_cli("verify", path)
    assert result.code == 1
    assert "not a Zigbee OTA file: magic number 0x00000000, expected 0x0BEEF11E" in result.err


def test_salus_trailer_recognised_and_checked(tmp_path: Path) -> None:
    inner = ota([SubElement(0, ebl())], manufacturer=0x1078)
    crc = zlib.crc32(inner)
    code, report = verify(tmp_path, salus(inner))
    assert code == 0
    assert report["trailer"] == {
        "kind": "crc32-le",
        "valid": True,
        "offset": len(inner),
        "length": 4,
        "stored": f"0x{crc:08X}",
        "computed": f"0x{crc:08X}",
    }
    assert report["findings"] == [
        {
            "level": "note",
            "code": "trailer-crc32",
            "message": f"the 4 bytes after the total image size {len(inner)} are the CRC-32 of the file "
            f"before them (0x{crc:08X}, the Salus convention) and it matches",
        }
    ]
    assert report["payload"]["format"] == "ebl"
    code, report = verify(tmp_path, salus(inner, bad=True))
    assert code == 1
    assert report["errors"] == [
        f"the 4 bytes after the total image size {len(inner)} should be the CRC-32 of the file before "
        f"them (the Salus convention) but hold 0x{crc ^ 1:08X}; the file computes to 0x{crc:08X}"
    ]


def test_bad_gbl_crc_makes_the_file_invalid_and_inspect_warns(tmp_path: Path) -> None:
    image = gbl(bad_crc=True)
    good = zlib.crc32(image[:-4])
    code, report = verify(tmp_path, ota([SubElement(0, image)]))
    assert code == 1
    message = (
        f"the upgrade image at offset 62: GBL CRC-32 does not match: the end tag holds 0x{good ^ 1:08X}, "
        f"the image computes to 0x{good:08X}"
    )
    assert report["findings"] == [{"level": "error", "code": "payload-crc", "message": message}]
    assert report["payload"]["valid"] is False
    code, report = verify(tmp_path, ota([SubElement(0, image)]), command="inspect")
    assert (code, report["findings"]) == (
        0,
        [{"level": "warning", "code": "payload-crc", "message": message}],
    )


def test_two_upgrade_images_are_both_identified(tmp_path: Path) -> None:
    first, second = gbl(), ebl()
    code, report = verify(tmp_path, ota([SubElement(0, first), SubElement(0, second)]))
    assert code == 0
    assert [p["format"] for p in report["payloads"]] == ["gbl", "ebl"]
    assert report["payload"] == report["payloads"][0]
    assert report["warnings"] == ["tag 0x0000 (upgrade image) appears 2 times"]


def test_repeated_manufacturer_and_reserved_tags_are_warnings(tmp_path: Path) -> None:
    data = ota(
        [SubElement(0, b"x"), SubElement(0xF006, b"a"), SubElement(0xF006, b"b"), SubElement(0xCDEF, b"c")]
    )
    code, report = verify(tmp_path, data)
    assert code == 0
    assert report["warnings"] == [
        "tag 0xF006 (manufacturer-specific) appears 2 times",
        "tag 0xCDEF is in the reserved range 0x0007-0xEFFF, which the specification keeps for future use",
    ]


def test_header_string_with_nul_then_bytes(tmp_path: Path) -> None:
    data = bytearray(ota([SubElement(0, b"x")]))
    raw = b"FLS-PP3\x00" + bytes(range(0xE0, 0xF8))
    data[20:52] = raw
    code, report = verify(tmp_path, bytes(data))
    assert code == 0
    assert (report["header_string"], report["header_string_hex"]) == ("FLS-PP3", raw.hex())


def test_truncated_file_says_what_happened(tmp_path: Path) -> None:
    whole = ota([SubElement(0, b"\x11" * 1000)])
    cut = whole[:500]  # inside the 0x0000 element
    code, report = verify(tmp_path, cut)
    assert code == 1
    assert report["errors"] == [f"total image size {len(whole)} is beyond the end of the 500-byte file"]
    hue = hue_sbl()
    code, report = verify(tmp_path, hue[:300])
    assert code == 1
    assert report["layout"] == "hue-sbl"
    assert report["errors"] == [f"total image size {len(hue)} is beyond the end of the 300-byte file"]


# --- the real files (ota-vendor corpus) ---------------------------------------------------


def test_verify_the_vendor_folder(corpus_dir: CorpusDir) -> None:
    folder = corpus_dir("ota-vendor")
    result = run_cli("verify", folder, "--json")
    assert result.code == 1
    reports = {Path(str(r["file"])).name: r for r in map(json.loads, result.out.splitlines())}
    assert sorted(reports) == sorted(EXPECTED)
    for name, report in reports.items():
        _size, layout, container, formats, found = EXPECTED[name]
        assert report["ok"] is (name != DATEK), name
        assert report["layout"] == layout, name
        assert report["container"] == container, name
        assert [p["format"] for p in report["payloads"]] == formats, name
        assert codes(report) == found, name
        assert [f["message"] for f in report["findings"]] == MESSAGES[name], name
        assert report["sha256"] == hashlib.sha256((folder / name).read_bytes()).hexdigest(), name
        trailer = report["trailer"]
        expected = ("crc32-le", True) if ("note", "trailer-crc32") in found else None
        assert ((trailer["kind"], trailer["valid"]) if trailer else None) == expected, name
    text = run_cli("verify", folder).out.splitlines()
    assert text[-1] == "Result: invalid (11 files, 10 valid, 1 invalid, 4 warnings)"
