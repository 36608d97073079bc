"""Rewrap (``matter --from-image``) and ``extract`` of Matter OTA images.

The oracle of a rewrap is Commander: the rewrapped image must equal what Commander
builds from the same payload with the new values.  The oracle of an extract is the
image itself: ``matter`` run with ``matter_args`` in the directory gives it back.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

from ota_action.formats.matter.tlv import Kind, encode_element
from tests.conftest import run_cli
from tests.test_matter import PAYLOAD, commander

BUILD = ["--vendor-id", "0xFFF1", "--product-id", "0x8001", "--version", "2", "--version-string", "2.0"]


def image(tmp_path: Path, *extra: str) -> Path:
    (tmp_path / "payload.bin").write_bytes(PAYLOAD)
    out = tmp_path / "app.ota"
    result = run_cli("matter", "-o", out, *BUILD, "--min-version", "1", *extra, tmp_path / "payload.bin")
    assert result.code == 0, result.err
    return out


def test_rewrap_keeps_the_payload_and_equals_commander(tmp_path: Path) -> None:
    source = image(tmp_path, "--release-notes-url", "https://e.x/2")
    out = tmp_path / "v3.ota"
    result = run_cli(
        "matter", "-o", out, "--from-image", source, "--version", "3", "--version-string", "3.0",
        "--release-notes-url", "https://e.x/3", "--digest", "sha3-256", "--json",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert json.loads(result.out)["from_image"] is True
    theirs = commander(
        tmp_path, "--vendorid", "0xFFF1", "--productid", "0x8001", "--swversion", "3", "--swstring", "3.0",
        "--min-sw", "1", "--releasenote", "https://e.x/3", "--digest", "sha3_256",
    )  # fmt: skip
    assert out.read_bytes() == theirs


def test_rewrap_in_place_keeps_every_value_not_given(tmp_path: Path) -> None:
    source = image(tmp_path, "--digest", "sha512")
    before = source.read_bytes()
    result = run_cli("matter", "-o", source, "--from-image", source, "--json")
    assert result.code == 0, result.err
    assert source.read_bytes() == before  # same values, same digest type: the same file
    assert json.loads(result.out)["digest_algorithm"] == "sha512"


def test_rewrap_refuses_a_corrupt_image_and_a_payload_beside_it(tmp_path: Path) -> None:
    source = image(tmp_path)
    data = bytearray(source.read_bytes())
    data[-1] ^= 1
    source.write_bytes(bytes(data))
    out = tmp_path / "out.ota"
    result = run_cli("matter", "-o", out, "--from-image", source, "--version", "3")
    assert result.code == 2
    assert "--from-image" in result.err
    assert "digest does not match" in result.err
    result = run_cli("matter", "-o", out, "--from-image", source, tmp_path / "payload.bin")
    assert result.code == 2
    assert "PAYLOAD" in result.err
    result = run_cli("matter", "-o", out, *BUILD)
    assert result.code == 2
    assert "PAYLOAD: is required" in result.err
    result = run_cli("matter", "-o", out, "--from-image", tmp_path / "payload.bin")
    assert result.code == 1
    assert "not a Matter OTA image" in result.err
    assert not out.exists()


def test_extract_writes_payload_and_args_that_rebuild_the_same_bytes(tmp_path: Path) -> None:
    source = image(tmp_path, "--max-version", "1", "--release-notes-url", "https://e.x/n?a=1&b=2")
    directory = tmp_path / "parts"
    result = run_cli("extract", source, "-d", directory, "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["files"] == ["payload.bin", "matter.json"]
    assert data["identical"] is True
    assert (directory / "payload.bin").read_bytes() == PAYLOAD
    manifest = json.loads((directory / "matter.json").read_text())
    assert manifest["matter_args"] == data["matter_args"]
    rebuilt = tmp_path / "rebuilt.ota"
    args = [str(directory / a) if a == "payload.bin" else a for a in manifest["matter_args"]]
    assert run_cli("matter", "-o", rebuilt, *args).code == 0
    assert rebuilt.read_bytes() == source.read_bytes()
    again = run_cli("extract", source, "-d", directory)
    assert again.code == 2
    assert "--force" in again.err


def test_extract_of_an_image_in_another_field_order_says_it_is_equivalent(tmp_path: Path) -> None:
    # The specification does not fix the order of the members of the structure: this
    # header puts the digest first and the vendor id last, 4 bytes wide.
    members: list[tuple[int, Kind, int | str | bytes]] = [
        (9, Kind.BYTES, hashlib.sha256(PAYLOAD).digest()), (8, Kind.UNSIGNED, 1), (1, Kind.UNSIGNED, 2),
        (2, Kind.UNSIGNED, 3), (3, Kind.UTF8, "3"), (4, Kind.UNSIGNED, len(PAYLOAD)), (5, Kind.UNSIGNED, 1),
    ]  # fmt: skip
    tlv = b"\x15" + b"".join(encode_element(*m) for m in members) + b"\x26\x00\x01\x00\x00\x00\x18"
    path = tmp_path / "reordered.ota"
    path.write_bytes(struct.pack("<IQI", 0x1BEEF11E, 16 + len(tlv) + len(PAYLOAD), len(tlv)) + tlv + PAYLOAD)
    checked = run_cli("verify", path, "--json")
    assert checked.code == 1  # connectedhomeip's device-side parser reads the tags in order
    assert [f["code"] for f in json.loads(checked.out)["findings"]] == ["field-order"]
    result = run_cli("extract", path, "-d", tmp_path / "parts", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["identical"] is False
    assert (data["vendor_id"], data["min_applicable_version"]) == (1, 1)
    rebuilt = tmp_path / "rebuilt.ota"
    args = [str(tmp_path / "parts" / a) if a == "payload.bin" else a for a in data["matter_args"]]
    assert run_cli("matter", "-o", rebuilt, *args).code == 0
    assert run_cli("verify", rebuilt).code == 0  # the rebuild puts them in order
    assert rebuilt.read_bytes()[-len(PAYLOAD) :] == PAYLOAD
    assert len(rebuilt.read_bytes()) == len(path.read_bytes()) - 3  # the vendor id in one byte


def test_action_rewraps_and_extracts_a_matter_image(tmp_path: Path) -> None:
    from tests.test_action import FakeRunner

    runner = FakeRunner(tmp_path)
    (runner.workspace / "app.bin").write_bytes(PAYLOAD)
    made = runner.run(
        {
            "command": "matter", "outfile": "dist/app.ota", "vendor-id": "0xFFF1", "product-id": "0x8001",
            "version": "2", "version-string": "2.0", "payload": "app.bin",
        }
    )  # fmt: skip
    assert made.code == 0, made.stdout
    bumped = runner.run(
        {"command": "matter", "outfile": "dist/app.ota", "from-image": "dist/app.ota", "version": "3",
         "version-string": "3.0"}
    )  # fmt: skip
    assert bumped.code == 0, bumped.stdout
    assert bumped.outputs["software-version"] == "3"
    parts = runner.run({"command": "extract", "image": "dist/app.ota", "directory": "parts"})
    assert parts.code == 0, parts.stdout
    assert parts.outputs["directory"] == "parts"
    assert (runner.workspace / "parts" / "payload.bin").read_bytes() == PAYLOAD
    manifest = json.loads((runner.workspace / "parts" / "matter.json").read_text())
    assert manifest["software_version_string"] == "3.0"
    assert manifest["identical"] is True


def test_zigbee_commands_name_a_matter_image_for_what_it_is(tmp_path: Path) -> None:
    source = image(tmp_path)
    result = run_cli("rewrap", source, "-o", tmp_path / "out.ota", "--version", "3")
    assert result.code == 1
    assert "it is a Matter OTA image (file identifier 0x1BEEF11E)" in result.err
