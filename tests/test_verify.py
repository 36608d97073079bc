"""verify and inspect on synthetic files that break one rule each, and fuzzing for tracebacks."""

from __future__ import annotations

import json
import random
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ota_action.formats.zigbee.elements import SubElement
from ota_action.formats.zigbee.header import OtaHeader
from ota_action.formats.zigbee.image import build_image
from ota_action.formats.zigbee.integrity import aes_mmo
from tests.conftest import CORPUS, run_cli


def make(**changes: object) -> bytearray:
    header = OtaHeader.create(manufacturer_code=0x1234, image_type=1, file_version=7, header_string=b"t")
    elements = [SubElement(0x0000, bytes(range(200))), SubElement(0xF000, b"abc")]
    return bytearray(build_image(header, elements, integrity=bool(changes.get("integrity", True))))


def verify(tmp_path: Path, data: bytes) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "f.ota"
    path.write_bytes(data)
    result = run_cli("verify", path, "--json")
    assert result.err == ""
    return result.code, json.loads(result.out)


def test_good_file_is_valid(tmp_path: Path) -> None:
    code, data = verify(tmp_path, bytes(make()))
    assert (code, data["valid"], data["errors"], data["warnings"]) == (0, True, [], [])


def test_corrupted_integrity_code_is_invalid(tmp_path: Path) -> None:
    data = make()
    data[100] ^= 0x01
    code, report = verify(tmp_path, bytes(data))
    assert code == 1
    assert report["integrity"]["valid"] is False
    assert report["errors"] == ["the integrity code does not match the file under any known rule"]


def test_covers_tag_header_variant_passes_with_warning(tmp_path: Path) -> None:
    data = make()
    position = len(data) - 22
    data[-16:] = aes_mmo(bytes(data[: position + 6]))
    code, report = verify(tmp_path, bytes(data))
    assert code == 0
    assert report["integrity"]["variant"] == "covers-tag-header"
    assert "non-standard 'covers-tag-header' variant" in report["warnings"][0]


def test_total_size_beyond_file_is_invalid(tmp_path: Path) -> None:
    data = make()
    struct.pack_into("<I", data, 52, len(data) + 10)
    code, report = verify(tmp_path, bytes(data))
    assert code == 1
    assert (
        f"total image size {len(data) + 10} is beyond the end of the {len(data)}-byte file"
        in report["errors"]
    )


def test_element_overrunning_total_size_is_invalid(tmp_path: Path) -> None:
    data = make(integrity=False)
    struct.pack_into("<I", data, 58, 201)  # the 0x0000 element claims one byte too many
    code, report = verify(tmp_path, bytes(data))
    assert code == 1
    assert any("sub-element 0xF000 at offset 262" in e or "runs" in e for e in report["errors"])


def test_stray_bytes_after_last_element_are_invalid(tmp_path: Path) -> None:
    data = make(integrity=False) + b"\x00\x00"
    struct.pack_into("<I", data, 52, len(data))
    code, report = verify(tmp_path, bytes(data))
    assert code == 1
    assert report["errors"] == [f"2 stray bytes at offset {len(data) - 2}, too few for a 6-byte tag header"]


def test_trailing_bytes_are_a_warning(tmp_path: Path) -> None:
    image = bytes(make())
    code, report = verify(tmp_path, image + b"CRC!")
    assert code == 0
    assert report["trailing_bytes"] == 4
    assert report["warnings"] == [
        "4 bytes after the total image size 293 are not part of the image "
        f"(nor a CRC-32 of it, which is 0x{zlib.crc32(image):08X})"
    ]
    assert report["trailer"] == {
        "kind": "unknown",
        "valid": None,
        "offset": 293,
        "length": 4,
        "stored": f"0x{int.from_bytes(b'CRC!', 'little'):08X}",
        "computed": f"0x{zlib.crc32(image):08X}",
    }
    code, report = verify(tmp_path, image + b"12345")  # not 4 bytes: no CRC to compare
    assert report["warnings"] == ["5 bytes after the total image size 293 are not part of the image"]


def test_duplicate_tags(tmp_path: Path) -> None:
    header = OtaHeader.create(manufacturer_code=1, image_type=1, file_version=1)
    twice_image = build_image(header, [SubElement(0, b"a"), SubElement(0, b"b")])
    code, report = verify(tmp_path, twice_image)
    assert (code, report["warnings"]) == (0, ["tag 0x0000 (upgrade image) appears 2 times"])
    twice_vendor = build_image(header, [SubElement(0xF000, b"a"), SubElement(0xF000, b"b")])
    code, report = verify(tmp_path, twice_vendor)
    assert (code, report["warnings"]) == (0, ["tag 0xF000 (manufacturer-specific) appears 2 times"])


def test_wrong_header_version(tmp_path: Path) -> None:
    data = make()
    struct.pack_into("<H", data, 4, 0x0200)
    data[-16:] = aes_mmo(bytes(data[:-22]))
    code, report = verify(tmp_path, bytes(data))
    assert code == 1
    assert report["errors"] == ["header version 0x0200 is not the Zigbee OTA version 0x0100"]


def test_header_length_larger_than_field_control_needs(tmp_path: Path) -> None:
    """Sub-elements start at the header length (zigbee-herdsman's rule, not zigpy's)."""
    base = make(integrity=False)
    data = base[:56] + b"\xee\xee" + base[56:]
    struct.pack_into("<HI", data, 6, 58, 0)
    struct.pack_into("<I", data, 52, len(data))
    code, report = verify(tmp_path, bytes(data))
    assert code == 0
    assert report["sub_elements"][0]["offset"] == 58
    assert (
        "header length 58 is larger than the 56 bytes field control 0x0000 implies" in report["warnings"][0]
    )


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: b"\x00" + d[1:], "not a Zigbee OTA file: magic number 0x0BEEF100"),
        (lambda d: d[:40], "file is 40 bytes, too short for the 56-byte OTA header"),
        (lambda d: d[:6] + b"\x30\x00" + d[8:], "header length 48 is smaller than the 56 bytes"),
    ],
)
def test_unreadable_files_exit_1_with_a_message(
    tmp_path: Path, mutate: Callable[[bytes], bytes], message: str
) -> None:
    path = tmp_path / "bad.ota"
    path.write_bytes(mutate(bytes(make())))
    for command in ("inspect", "verify"):
        result = run_cli(command, path)
        assert result.code == 1
        assert result.out == ""
        assert result.err.startswith(f"ota-action {command}: error: FILE '{path}': {message}")


def test_inspect_reports_problems_as_warnings_and_succeeds(tmp_path: Path) -> None:
    data = make()
    data[100] ^= 1
    path = tmp_path / "f.ota"
    path.write_bytes(bytes(data))
    result = run_cli("inspect", path, "--json")
    assert result.code == 0
    assert "the integrity code does not match" in json.loads(result.out)["warnings"][0]


def _assert_no_crash(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.ota"
    path.write_bytes(data)
    for command in ("inspect", "verify"):
        result = run_cli(command, path, "--json")
        assert result.code in (0, 1), result.err
        assert "internal error" not in result.err
        if result.code == 0:
            json.loads(result.out)
        else:
            assert result.out == "" or json.loads(result.out)["ok"] is False


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400) | st.binary(max_size=200).map(lambda b: bytes.fromhex("1ef1ee0b") + b))
def test_fuzz_random_bytes(tmp_path: Path, data: bytes) -> None:
    _assert_no_crash(tmp_path, data)


def _corpus_seed() -> bytes:
    path = CORPUS / "10F2-7B2A-0000-0005-02010230-m7b-r0.ota.zigbee"
    if path.exists():
        return path.read_bytes()[:2000]
    return bytes(make())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.tuples(st.integers(0, 300), st.integers(0, 255)), min_size=1, max_size=8),
    st.integers(62, 2000),
)
def test_fuzz_mutated_real_header(tmp_path: Path, edits: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(_corpus_seed()[:cut])
    for offset, value in edits:
        if offset < len(data):
            data[offset] = value
    _assert_no_crash(tmp_path, bytes(data))


def test_mutated_corpus_files_never_crash(corpus: Path, tmp_path: Path) -> None:
    rng = random.Random(7)
    for path in sorted(corpus.glob("*.ot*")) + sorted(corpus.glob("*.zigbee")):
        original = path.read_bytes()
        for _ in range(15):
            data = bytearray(original)
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(0, min(len(data), 120))] = rng.randrange(256)
            _assert_no_crash(tmp_path, bytes(data[: rng.choice([len(data), rng.randrange(len(data))])]))
