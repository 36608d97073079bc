"""inspect/verify of Matter OTA images, hostile headers, the DCL document, and the Action.

Images are built by ``ota-action matter`` (byte-identical to Commander, test_matter.py)
or by hand from connectedhomeip's own TLV writer (``chip.tlv``), so the reader is tested
against an encoder that is not ours.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import re
import struct
from pathlib import Path
from typing import Any

import pytest
from chip.tlv import TLVWriter, uint  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ota_action.errors import FormatError
from ota_action.formats.matter.checks import check_matter
from ota_action.formats.matter.header import MatterHeader
from ota_action.formats.matter.image import parse_image
from ota_action.formats.matter.tlv import decode_structure
from tests.conftest import run_cli
from tests.test_action import FakeRunner

PAYLOAD = b"\x5a" * 3000 + b"end"
BUILD = ["--vendor-id", "0xFFF1", "--product-id", "0x8001", "--version", "2", "--version-string", "2.0"]


def built(tmp_path: Path, *extra: str) -> Path:
    (tmp_path / "app.bin").write_bytes(PAYLOAD)
    out = tmp_path / "app.ota"
    result = run_cli("matter", "-o", out, *BUILD, *extra, tmp_path / "app.bin")
    assert result.code == 0, result.err
    return out


def verify(path: Path, command: str = "verify") -> tuple[int, dict[str, Any]]:
    result = run_cli(command, path, "--json")
    assert result.code in (0, 1), result.err
    return result.code, json.loads(result.out)


def codes(data: dict[str, Any], level: str = "error") -> list[str]:
    return [f["code"] for f in data["findings"] if f["level"] == level]


def chip_image(fields: dict[int, Any], payload: bytes, *, total: int | None = None) -> bytes:
    """An image whose header connectedhomeip's TLV writer encoded."""
    writer = TLVWriter()
    writer.put(None, fields)
    tlv: bytes = writer.encoding
    size = 16 + len(tlv) + len(payload) if total is None else total
    return struct.pack("<IQI", 0x1BEEF11E, size, len(tlv)) + tlv + payload


def chip_fields(payload: bytes) -> dict[int, Any]:
    return {
        0: uint(0xFFF1), 1: uint(0x8001), 2: uint(5), 3: "5.0", 4: uint(len(payload)),
        8: uint(1), 9: hashlib.sha256(payload).digest(), 5: uint(1), 6: uint(4), 7: "https://e.x/n",
    }  # fmt: skip


def test_verify_reads_every_field(tmp_path: Path) -> None:
    image = built(
        tmp_path, "--min-version", "1", "--max-version", "1", "--release-notes-url", "https://e.x/n"
    )
    code, data = verify(image)
    assert code == 0
    assert data["valid"] is True
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    assert {
        k: data[k] for k in ("vendor_id", "product_id", "software_version", "software_version_string")
    } == {
        "vendor_id": 0xFFF1,
        "product_id": 0x8001,
        "software_version": 2,
        "software_version_string": "2.0",
    }
    assert (data["min_applicable_version"], data["max_applicable_version"]) == (1, 1)
    assert data["release_notes_url"] == "https://e.x/n"
    assert (data["digest_type"], data["digest_algorithm"], data["digest"]) == (1, "sha256", digest)
    assert data["digest_matches"] is True
    assert data["payload_size"] == len(PAYLOAD)
    assert data["total_size"] == data["size"] == image.stat().st_size
    assert data["sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()


def test_one_flipped_payload_byte_is_invalid_with_code_digest(tmp_path: Path) -> None:
    image = built(tmp_path)
    data = bytearray(image.read_bytes())
    data[-1000] ^= 0x01
    image.write_bytes(bytes(data))
    code, result = verify(image)
    assert code == 1
    assert result["valid"] is False
    assert codes(result) == ["digest"]
    assert result["digest_matches"] is False
    code, result = verify(image, "inspect")  # inspect reads it, and warns with the same code
    assert code == 0
    assert codes(result, "warning") == ["digest"]


def test_reads_what_chip_tlv_wrote_and_every_rule(tmp_path: Path) -> None:
    path = tmp_path / "chip.ota"
    path.write_bytes(chip_image(chip_fields(PAYLOAD), PAYLOAD))
    code, data = verify(path)
    assert code == 0, data["errors"]
    assert (data["software_version"], data["max_applicable_version"]) == (5, 4)
    bad = chip_fields(PAYLOAD)
    del bad[5]
    bad[6] = uint(9)  # max applicable version above the software version
    bad[7] = "http://e.x/n"
    bad[3] = "v" * 65
    path.write_bytes(chip_image(bad, PAYLOAD + b"extra"))
    code, data = verify(path)
    assert code == 1
    assert codes(data) == ["total-size", "version-string", "applicable-versions"]
    assert codes(data, "warning") == ["trailing-bytes", "release-notes-not-https"]


def test_truncated_and_unknown_digest(tmp_path: Path) -> None:
    path = tmp_path / "short.ota"
    path.write_bytes(chip_image(chip_fields(PAYLOAD), PAYLOAD)[:-10])
    assert codes(verify(path)[1]) == ["truncated", "digest"]
    path.write_bytes(chip_image(chip_fields(PAYLOAD) | {8: uint(99)}, PAYLOAD))
    assert codes(verify(path)[1]) == ["digest-type"]
    path.write_bytes(chip_image(chip_fields(PAYLOAD) | {9: b"\0" * 31}, PAYLOAD))
    assert codes(verify(path)[1]) == ["digest-length"]
    path.write_bytes(chip_image(chip_fields(PAYLOAD) | {20: uint(1)}, PAYLOAD))
    assert codes(verify(path)[1], "warning") == ["unknown-tag"]


@pytest.mark.parametrize(
    ("tlv", "message"),
    [
        (b"", "ends inside the structure"),
        (b"\x17\x18", "does not start with an anonymous structure"),
        (b"\x15\x2c\x03\xff", "ends inside a string"),  # a 255-byte string in 1 byte: never allocated
        (b"\x15\x2f\x03" + b"\xff" * 8, "ends inside a string"),  # 2**64 - 1 bytes claimed
        (b"\x15" + b"\x35\x10" * 20 + b"\x18" * 21, "deeper than"),
        (b"\x15\x1f\x18", "malformed control byte"),
        (b"\x15\x38\x18", "malformed control byte"),
        (b"\x15\x2c\x03\x02\xff\xfe\x18", "not valid UTF-8"),
        (b"\x15\x24\x00\x01\x24\x00\x01\x18", "tag 0 (vendor_id) twice"),
        (b"\x15\x2c\x00\x01a\x18", "tag 0 (vendor_id) is not an unsigned integer"),
        (b"\x15\x26\x00\x00\x00\x01\x00\x18", "wider than 16 bits"),
        (b"\x15\x24\x00\x01\x18", "lacks required tag 1 (product_id)"),
        (MatterHeader(1, 1, 1, "1", 0, 1, b"").encode() + b"\x00", "ends at byte 24"),
    ],
)
def test_hostile_headers_are_format_errors(tlv: bytes, message: str) -> None:
    with pytest.raises(FormatError, match=re.escape(message)):
        MatterHeader.decode(tlv)


def test_hostile_prefixes_exit_1_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.ota"
    for data, message in [
        (struct.pack("<IQI", 0x1BEEF11E, 16, 0xFFFFFFFF), "larger than any Matter OTA header"),
        (struct.pack("<IQI", 0x1BEEF11E, 16, 100) + b"\x15", "runs past the end"),
        (struct.pack("<I", 0x1BEEF11E), "shorter than the 16-byte"),
    ]:
        path.write_bytes(data)
        result = run_cli("verify", path)
        assert result.code == 1
        assert message in result.err
        assert str(path) in result.err


def test_unknown_elements_of_every_type_are_skipped() -> None:
    members, used = decode_structure(
        b"\x15"
        b"\x20\x10\x01"  # tag 16: signed integer
        b"\x29\x11"  # tag 17: true
        b"\x2a\x12\x00\x00\x80\x3f"  # tag 18: float 1.0
        b"\x34\x13"  # tag 19: null
        b"\x36\x14\x04\x01\x18"  # tag 20: an array holding one integer
        b"\xc4\x01\x02\x03\x04\x05\x06\x07"  # a fully-qualified 6-byte tag
        b"\x18"
        b"trailing"
    )
    assert [m.tag for m in members] == [16, 17, 18, 19, 20, None]
    assert used == 28


def test_dcl_document(tmp_path: Path) -> None:
    image = built(
        tmp_path, "--min-version", "1", "--release-notes-url", "https://e.x/n",
        "--dcl-out", str(tmp_path / "dcl.json"), "--ota-url", "https://e.x/app.ota",
    )  # fmt: skip
    data = image.read_bytes()
    assert json.loads((tmp_path / "dcl.json").read_text()) == {
        "vid": 0xFFF1,
        "pid": 0x8001,
        "softwareVersion": 2,
        "softwareVersionString": "2.0",
        "otaUrl": "https://e.x/app.ota",
        "otaFileSize": str(len(data)),
        "otaChecksum": base64.b64encode(hashlib.sha256(data).digest()).decode(),
        "otaChecksumType": 1,
        "minApplicableSoftwareVersion": 1,
        "maxApplicableSoftwareVersion": 1,  # the header has none: softwareVersion - 1
        "releaseNotesUrl": "https://e.x/n",
    }
    assert (
        verify(image, "inspect")[1]["dcl"]["otaChecksum"]
        == base64.b64encode(hashlib.sha256(data).digest()).decode()
    )


@pytest.mark.parametrize(
    ("args", "flag", "message"),
    [
        (["--min-version", "2"], "--min-version", "must be below the software version"),
        (["--max-version", "1", "--min-version", "0", "--version", "9"], "", ""),
        (["--release-notes-url", "https://e.x/\x1b[31m"], "--release-notes-url", "control character"),
        (["--release-notes-url", "https://e.x/" + "a" * 250], "--release-notes-url", "1-256"),
        (["--version-string", "v" * 65], "--version-string", "1-64"),
        (["--version-string", "2.0\n::warning::x"], "--version-string", "control character"),
        (["--digest", "sha256-128"], "--digest", "must be one of"),
        (["--vendor-id", "0"], "--vendor-id", "reserves"),
        (["--ota-url", "https://e.x/a"], "--ota-url", "only with the DCL document"),
    ],
)
def test_refusals_name_the_option(tmp_path: Path, args: list[str], flag: str, message: str) -> None:
    (tmp_path / "app.bin").write_bytes(PAYLOAD)
    result = run_cli("matter", "-o", tmp_path / "o.ota", *BUILD, *args, tmp_path / "app.bin")
    if not flag:
        assert result.code == 0, result.err
        return
    assert result.code == 2, result.err
    assert flag in result.err, result.err
    assert message in result.err, result.err
    assert "\x1b" not in result.err
    assert "\n::" not in result.err
    assert not (tmp_path / "o.ota").exists()


def test_action_builds_verifies_and_indexes_in_one_workspace(tmp_path: Path) -> None:
    runner = FakeRunner(tmp_path)
    (runner.workspace / "build").mkdir()
    (runner.workspace / "build" / "app.bin").write_bytes(PAYLOAD)
    made = runner.run(
        {
            "command": "matter", "outfile": "dist/app.ota", "vendor-id": "0xFFF1", "product-id": "0x8001",
            "version": "2", "version-string": "2.0", "payload": "build/app.bin", "digest": "sha512",
            "dcl-out": "dist/dcl.json", "ota-url": "https://example.com/app.ota",
        }
    )  # fmt: skip
    assert made.code == 0, made.stdout
    image = runner.workspace / "dist" / "app.ota"
    assert made.outputs["ota-file"] == "dist/app.ota"
    assert made.outputs["dcl-file"] == "dist/dcl.json"
    assert made.outputs["sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()
    assert made.outputs["software-version"] == "2"
    assert "ota-action matter" in made.summary
    assert "| Software version string | 2.0 |" in made.summary
    checked = runner.run({"command": "verify", "image": "dist/app.ota"})
    assert checked.code == 0, checked.stdout
    assert json.loads(checked.outputs["summary-json"])["digest_algorithm"] == "sha512"
    dcl = json.loads((runner.workspace / "dist" / "dcl.json").read_text())
    assert dcl["otaChecksum"] == base64.b64encode(hashlib.sha256(image.read_bytes()).digest()).decode()
    data = bytearray(image.read_bytes())
    data[-1] ^= 0x80
    image.write_bytes(bytes(data))
    broken = runner.run({"command": "verify", "image": "dist"})
    assert broken.code == 1
    summary = json.loads(broken.outputs["summary-json"])
    assert summary["results"][0]["layout"] == "matter"
    assert summary["results"][0]["verdict"] == "invalid"
    assert [f["code"] for f in summary["findings"] if f["level"] == "error"] == ["digest"]


HOSTILE = "2.0\n::warning::pwned\x1b[31m|<img src=x>"


def test_strings_from_the_file_are_escaped_in_every_view(tmp_path: Path) -> None:
    fields = chip_fields(PAYLOAD) | {3: HOSTILE, 7: "https://e.x/\n::error::x"}
    (tmp_path / "hostile.ota").write_bytes(chip_image(fields, PAYLOAD))
    result = run_cli("inspect", tmp_path / "hostile.ota")
    assert result.code == 0, result.err
    assert "\x1b" not in result.out
    assert not any(line.startswith("::") for line in result.out.splitlines())
    assert (
        json.loads(run_cli("inspect", tmp_path / "hostile.ota", "--json").out)["software_version_string"]
        == HOSTILE
    )
    (tmp_path / "action").mkdir()
    runner = FakeRunner(tmp_path / "action")
    (runner.workspace / "hostile.ota").write_bytes((tmp_path / "hostile.ota").read_bytes())
    run = runner.run({"command": "verify", "image": "hostile.ota"})
    assert run.code == 1  # the URL's control character is an error: release-notes-url
    assert "pwned" not in "".join(c.message for c in run.commands)
    assert not [c for c in run.commands if c.name == "warning" and "pwned" in c.message]
    assert "<img" not in run.summary
    assert "\x1b" not in run.summary
    summary = json.loads(run.outputs["summary-json"])
    assert [f["code"] for f in summary["findings"] if f["level"] == "error"] == ["release-notes-url"]


def test_verify_public_key_on_a_matter_image_fails_it(tmp_path: Path) -> None:
    image = built(tmp_path)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = tmp_path / "key.pem"  # a real public key (keys are loaded before any file is read)
    key.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    code, data = verify_with(image, "--public-key", str(key))
    assert code == 1
    assert codes(data) == ["signature"]


def verify_with(path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("verify", path, *extra, "--json")
    return result.code, json.loads(result.out)


def test_dcl_out_may_not_overwrite_an_input(tmp_path: Path) -> None:
    image = built(tmp_path)
    before = image.read_bytes()
    result = run_cli("matter", "-o", tmp_path / "new.ota", "--from-image", image, "--dcl-out", image)
    assert result.code == 2
    assert "--dcl-out" in result.err
    assert image.read_bytes() == before
    result = run_cli("matter", "-o", tmp_path / "app.bin", *BUILD, tmp_path / "app.bin")
    assert result.code == 2
    assert "--outfile" in result.err
    assert (tmp_path / "app.bin").read_bytes() == PAYLOAD


def test_bytes_after_the_header_structure_are_a_warning(tmp_path: Path) -> None:
    # A device's reader stops at the end of the structure; the bytes after it are slack.
    writer = TLVWriter()
    writer.put(None, chip_fields(PAYLOAD))
    tlv: bytes = writer.encoding + b"\0\0\0"
    path = tmp_path / "slack.ota"
    path.write_bytes(struct.pack("<IQI", 0x1BEEF11E, 16 + len(tlv) + len(PAYLOAD), len(tlv)) + tlv + PAYLOAD)
    code, data = verify(path)
    assert code == 0
    assert codes(data, "warning") == ["header-slack"]
    assert data["payload_offset"] == 16 + len(tlv)


def test_what_the_device_side_parser_refuses(tmp_path: Path) -> None:
    """connectedhomeip's OTAImageHeaderParser (src/lib/core/OTAImageHeader.cpp) reads tags
    0-4, then 5, 6, 7 when present, then 8 and 9, and refuses headers over 1024 bytes."""
    path = tmp_path / "device.ota"
    after_digest = dict(chip_fields(PAYLOAD)) | {30: "a future field"}  # chip.tlv writes it last
    path.write_bytes(chip_image(after_digest, PAYLOAD))
    code, data = verify(path)
    assert code == 0
    assert codes(data, "warning") == ["unknown-tag"]
    prefix_tlv = MatterHeader(1, 1, 5, "5", len(PAYLOAD), 1, hashlib.sha256(PAYLOAD).digest()).encode()
    before_digest = prefix_tlv[:-1].replace(b"\x24\x08\x01", b"\x24\x14\x00\x24\x08\x01") + b"\x18"
    path.write_bytes(
        struct.pack("<IQI", 0x1BEEF11E, 16 + len(before_digest) + len(PAYLOAD), len(before_digest))
    )
    with path.open("ab") as f:
        f.write(before_digest + PAYLOAD)
    code, data = verify(path)
    assert code == 1
    assert codes(data) == ["field-order"]
    big = chip_fields(PAYLOAD) | {30: "x" * 1100}
    path.write_bytes(chip_image(big, PAYLOAD))
    code, data = verify(path)
    assert code == 1
    assert codes(data) == ["header-size"]


def test_a_gbl_payload_is_recognised_and_its_crc_checked(tmp_path: Path) -> None:
    from tests.vendor_files import gbl

    for bad in (False, True):
        payload = gbl(bad_crc=bad)
        path = tmp_path / f"gbl-{bad}.ota"
        path.write_bytes(chip_image(chip_fields(payload), payload))
        code, data = verify(path)
        assert data["payload"]["format"] == "gbl"
        assert data["payload"]["valid"] is (not bad)
        assert (code, codes(data)) == ((1, ["payload-crc"]) if bad else (0, []))
    text = run_cli("inspect", tmp_path / "gbl-False.ota").out
    assert "  Payload format: gbl at offset" in text


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.binary(max_size=200), cut=st.integers(0, 200), flip=st.integers(0, 2000))
def test_any_bytes_decode_or_are_one_format_error(data: bytes, cut: int, flip: int) -> None:
    """Random headers, and real ones cut short or with a byte changed: a header or a
    FormatError, never another exception."""
    real = bytearray(MatterHeader(1, 2, 3, "3.0", 10, 1, bytes(32), 1, 2, "https://e.x").encode())
    real[flip % len(real)] ^= 0x5A
    for candidate in (data, bytes(real), bytes(real[:cut])):
        with contextlib.suppress(FormatError):
            MatterHeader.decode(candidate)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    total=st.integers(0, (1 << 64) - 1),
    header_size=st.integers(0, (1 << 32) - 1),
    rest=st.binary(max_size=300),
)
def test_any_prefix_parses_or_is_one_format_error(total: int, header_size: int, rest: bytes) -> None:
    data = struct.pack("<IQI", 0x1BEEF11E, total, header_size) + rest
    with contextlib.suppress(FormatError):
        image = parse_image(io.BytesIO(data), len(data))
        check_matter(image)  # every rule runs on whatever decoded
