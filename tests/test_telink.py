"""Telink payloads (issue 24): ``zbota --prepare telink -v payload`` and the checks ``verify`` makes.

The oracle is the custom-firmware projects' own fix-up, written here again from its
description (reference/payloads-and-fleets.md), with the OTA header packed by ``struct``
from the specification's field list: neither uses ota-action's code.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli

MFG, IMAGE_TYPE, VERSION = 0x1141, 0x0203, 0x99993001


def project_script(fw: bytes) -> bytes:
    """The 12 lines the projects run before wrapping a Telink image (the independent oracle)."""
    data = bytearray(fw)
    if data[6:8] != b"\x5d\x02":
        if len(data) % 16:
            data += b"\xff" * (16 - len(data) % 16)
        size = len(data) + 4
        data[0x18:0x1C] = struct.pack("<I", size)
        data[6:8] = b"\x5d\x02"
        crc = zlib.crc32(data) ^ 0xFFFFFFFF
        data += struct.pack("<I", crc)
    return bytes(data)


def ota_file(payload: bytes, *, version: int, string: bytes = b"") -> bytes:
    """A Zigbee OTA file as the projects write it: 56-byte header, one 0x0000 element."""
    total = 56 + 6 + len(payload)
    fields = (0x0BEEF11E, 0x0100, 56, 0, MFG, IMAGE_TYPE, version, 2, string.ljust(32, b"\0"), total)
    header = struct.pack("<IHHHHHIH32sI", *fields)
    return header + struct.pack("<HI", 0x0000, len(payload)) + payload


def application(size: int = 5003, version: int = VERSION) -> bytes:
    """A Telink application binary as the compiler leaves it: no magic, no size, no CRC."""
    head = bytearray(32)
    head[0:2] = b"\x80\x26"  # the reset vector's jump
    head[2:6] = struct.pack("<I", version)
    head[8:12] = b"KNLT"
    head[12:16] = struct.pack("<I", 0x00008000)
    body = bytes((i * 7 + 3) & 0xFF for i in range(size - 32))
    return bytes(head) + body


def zbota(tmp_path: Path, image: Path, *extra: str) -> tuple[int, str, Path]:
    out = tmp_path / "out.zigbee"
    args: list[str | Path] = [
        "zbota",
        "-o",
        out,
        "-m",
        hex(MFG),
        "-i",
        hex(IMAGE_TYPE),
        "-t",
        f"0x0000:{image}",
        *extra,
    ]
    result = run_cli(*args)
    return result.code, result.err, out


def verify_json(path: Path) -> tuple[int, dict[str, Any]]:
    result = run_cli("verify", path, "--json")
    return result.code, json.loads(result.out)


@pytest.mark.parametrize("size", [5003, 4096, 33])
def test_prepare_telink_equals_the_projects_script(tmp_path: Path, size: int) -> None:
    fw = tmp_path / "app.bin"
    fw.write_bytes(application(size))
    code, err, out = zbota(tmp_path, fw, "--prepare", "telink", "-v", "payload", "--string", "TLSR8258")
    assert (code, err) == (0, "")
    expected = ota_file(project_script(application(size)), version=VERSION, string=b"TLSR8258")
    assert out.read_bytes() == expected
    assert len(project_script(application(size))) % 16 == 4


def test_prepared_image_is_valid_and_described(tmp_path: Path) -> None:
    fw = tmp_path / "app.bin"
    fw.write_bytes(application())
    code, _, out = zbota(tmp_path, fw, "--prepare", "telink", "-v", "payload")
    assert code == 0
    code, report = verify_json(out)
    prepared = project_script(application())
    crc = f"0x{struct.unpack_from('<I', prepared, len(prepared) - 4)[0]:08X}"
    assert code == 0
    assert report["payload"] == {
        "format": "telink",
        "valid": True,
        "details": {
            "firmware_size": len(prepared),
            "version": f"0x{VERSION:08X}",
            "crc32_stored": crc,
            "crc32_computed": crc,
        },
    }
    text = run_cli("inspect", out).out
    assert f"telink at offset 62 ({len(prepared)} bytes), CRC-32 {crc} matches" in text


def test_an_image_already_prepared_is_left_as_it_is(tmp_path: Path) -> None:
    prepared = project_script(application())
    fw = tmp_path / "app.bin"
    fw.write_bytes(prepared)
    code, err, out = zbota(tmp_path, fw, "--prepare", "telink", "-v", "0x01020304")
    assert (code, err) == (0, "")
    assert out.read_bytes() == ota_file(prepared, version=0x01020304)


def test_an_image_already_prepared_with_a_wrong_crc_is_refused(tmp_path: Path) -> None:
    prepared = bytearray(project_script(application()))
    prepared[100] ^= 0x01
    fw = tmp_path / "app.bin"
    fw.write_bytes(prepared)
    code, err, out = zbota(tmp_path, fw, "--prepare", "telink", "-v", "payload")
    assert code == 2
    assert err.startswith(
        f"ota-action zbota: error: --prepare '{fw}': already carries the Telink OTA magic, but: "
    )
    assert "Telink CRC-32 does not match" in err
    assert not out.exists()


def test_prepare_refuses_what_is_not_a_telink_image(tmp_path: Path) -> None:
    fw = tmp_path / "app.bin"
    fw.write_bytes(b"\x00" * 64)
    code, err, out = zbota(tmp_path, fw, "--prepare", "telink", "-v", "1")
    assert code == 2
    assert "--prepare: is not a Telink application image: no start-up flag KNLT" in err
    assert not out.exists()
    fw.write_bytes(b"\x00" * 10)
    code, err, _ = zbota(tmp_path, fw, "--prepare", "telink", "-v", "1")
    assert (code, "too short for a Telink application image" in err) == (2, True)


def test_version_from_a_payload_without_one_is_refused(tmp_path: Path) -> None:
    fw = tmp_path / "app.bin"
    fw.write_bytes(b"\x01" * 100)
    code, err, out = zbota(tmp_path, fw, "-v", "payload")
    assert code == 2
    assert "--version: is 'payload', but the upgrade image carries no version" in err
    assert not out.exists()


def test_version_from_payload_without_prepare(tmp_path: Path) -> None:
    prepared = project_script(application(version=0x12345678))
    fw = tmp_path / "app.bin"
    fw.write_bytes(prepared)
    code, _, out = zbota(tmp_path, fw, "-v", "PAYLOAD")
    assert code == 0
    assert out.read_bytes() == ota_file(prepared, version=0x12345678)


def _mutated(kind: str) -> bytes:
    data = bytearray(project_script(application()))
    if kind == "flipped-byte":
        data[2000] ^= 0x40
    elif kind == "wrong-length":
        struct.pack_into("<I", data, 0x18, len(data) - 16)
    else:
        data[6:8] = b"\0\0"
    return bytes(data)


MUTATIONS = {
    "flipped-byte": "the upgrade image at offset 62: Telink CRC-32 does not match: the image ends with ",
    "wrong-length": (
        "the upgrade image at offset 62: Telink image size at offset 0x18 is 4996, but the upgrade "
        "image holds 5012 bytes: the device rejects it"
    ),
    "zeroed-magic": (
        "the upgrade image at offset 62: Telink image has no OTA magic 5D 02 at offset 6 (found 00 00): "
        "the device rejects it"
    ),
}


@pytest.mark.parametrize("kind", sorted(MUTATIONS))
def test_the_device_rejects_it_so_verify_does(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "bad.zigbee"
    path.write_bytes(ota_file(_mutated(kind), version=VERSION))
    code, report = verify_json(path)
    assert code == 1
    assert report["valid"] is False
    assert [(f["level"], f["code"]) for f in report["findings"]] == [("error", "payload")]
    assert report["findings"][0]["message"].startswith(MUTATIONS[kind])
    assert report["payload"]["valid"] is False


def test_flipped_byte_message_shows_both_crcs(tmp_path: Path) -> None:
    data = _mutated("flipped-byte")
    stored = struct.unpack_from("<I", data, len(data) - 4)[0]
    computed = zlib.crc32(data[:-4]) ^ 0xFFFFFFFF
    path = tmp_path / "bad.zigbee"
    path.write_bytes(ota_file(data, version=VERSION))
    _, report = verify_json(path)
    assert report["findings"][0]["message"].endswith(
        f"the image ends with 0x{stored:08X}, its first {len(data) - 4} bytes compute to 0x{computed:08X}"
    )


# --- an OTA file wrapped in another (issue 18) ------------------------------------------


def test_zbota_refuses_an_ota_file_as_upgrade_image_unless_allowed(tmp_path: Path) -> None:
    inner = tmp_path / "inner.zigbee"
    inner.write_bytes(ota_file(b"firmware", version=1))
    code, err, out = zbota(tmp_path, inner, "-v", "2")
    assert code == 2
    assert err == (
        f"ota-action zbota: error: --tag '{inner}': is itself a Zigbee OTA file (it starts with the magic "
        "number 0x0BEEF11E): wrapping it again makes a file no device accepts; pass its own upgrade "
        "image, or allow this on purpose with --allow-nested-ota\n"
    )
    assert not out.exists()
    code, err, out = zbota(tmp_path, inner, "-v", "2", "--allow-nested-ota")
    assert (code, err) == (0, "")
    assert out.read_bytes() == ota_file(inner.read_bytes(), version=2)
    code, report = verify_json(out)
    assert code == 0
    assert report["payload"] == {"format": "zigbee-ota", "valid": None, "details": {}}
    assert report["findings"] == [
        {
            "level": "warning",
            "code": "nested-ota",
            "message": "the upgrade image at offset 62 is itself a Zigbee OTA file (wrapped twice): a "
            "device expects its firmware there and rejects the file",
        }
    ]


def test_the_installed_command_starts_in_a_fresh_interpreter(tmp_path: Path) -> None:
    """An import cycle shows only in a process whose first import is the CLI's."""
    import subprocess
    import sys

    path = tmp_path / "t.zigbee"
    path.write_bytes(ota_file(project_script(application()), version=VERSION))
    done = subprocess.run(
        [sys.executable, "-m", "ota_action", "verify", str(path)], capture_output=True, text=True, timeout=120
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert "telink at offset 62" in done.stdout


def test_prepare_works_on_a_hex_build_too(tmp_path: Path) -> None:
    """The fix-ups wrap whatever source the tag is, so a .hex build gives the same file."""
    from intelhex import IntelHex

    ih = IntelHex()
    ih.frombytes(application(), offset=0x0000)
    hexfile = tmp_path / "app.hex"
    ih.write_hex_file(str(hexfile))
    code, err, out = zbota(tmp_path, hexfile, "--prepare", "telink", "-v", "payload")
    assert (code, err) == (0, "")
    assert out.read_bytes() == ota_file(project_script(application()), version=VERSION)


def test_a_fleet_build_takes_the_version_from_each_telink_payload(tmp_path: Path) -> None:
    """``build``: ``prepare = "telink"`` and ``version = "payload"`` per image; the file name,
    the header and the index entry all carry the build's own version."""
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "app.bin").write_bytes(application(version=0x01020304))
    manifest = tmp_path / "FLEET.toml"
    manifest.write_text(
        "[defaults]\n"
        "manufacturer_code = 0x1141\n"
        'name = "{manufacturer_code:04x}-{image_type:04x}-{file_version:08x}-{board}.zigbee"\n'
        "[[image]]\n"
        'board = "TS0201"\n'
        'payload = "build/app.bin"\n'
        "image_type = 0x0203\n"
        'version = "payload"\n'
        'prepare = "telink"\n'
        "[[index]]\n"
        'name = "index.json"\n'
    )
    result = run_cli("build", manifest, "--outdir", tmp_path / "dist", "--json")
    assert result.code == 0, result.err
    written = tmp_path / "dist" / "1141-0203-01020304-TS0201.zigbee"
    assert written.read_bytes() == ota_file(
        project_script(application(version=0x01020304)), version=0x01020304
    )
    entries = json.loads((tmp_path / "dist" / "index.json").read_text())
    assert [e["fileVersion"] for e in entries] == [0x01020304]
