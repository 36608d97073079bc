"""Each result type, built by hand, renders exactly: text, Markdown, JSON and Action outputs.

The values are written out in full here (not computed by the code under test), so a
change to any view shows up as a diff against what users see today.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest

from ota_action.formats.firmware.image import LINEAR_START, StartAddress
from ota_action.formats.firmware.merge import Overlap
from ota_action.formats.firmware.segments import Range
from ota_action.formats.zigbee import FieldControl, Finding, OtaHeader, Tag
from ota_action.formats.zigbee.image import IntegrityResult
from ota_action.formats.zigbee.integrity import IntegrityVariant
from ota_action.results import (
    CombineInput,
    CombineResult,
    ElementRow,
    InspectResult,
    KeygenResult,
    OtaSummary,
    VerifyResult,
    XbeeFsResult,
    ZbotaResult,
)
from ota_action.secret import Secret
from tests.conftest import run_cli

SHA = "ab" * 32
STORED = bytes(range(16))


def summary(*, integrity: bool = True, trailing: int = 0) -> OtaSummary:
    header = OtaHeader.create(
        manufacturer_code=0x1234, image_type=1, file_version=0x01020304, header_string=b"t|x"
    ).with_total_size(94)
    rows = [ElementRow(0x0000, 10, 56, source="app.hex", address_range="0x08000000-0x08000009")]
    if integrity:
        rows.append(ElementRow(0x0003, 16, 72, source="AES-MMO integrity code"))
    check = (
        IntegrityResult(True, True, IntegrityVariant.STANDARD, STORED, 72)
        if integrity
        else IntegrityResult(False, None, None)
    )
    return OtaSummary(
        header=header,
        sub_elements=tuple(rows),
        integrity=check,
        file_size=94 + trailing,
        trailing_bytes=trailing,
    )


HEADER_TEXT = """\
Zigbee OTA Header:
  OTA File ID: 0x0BEEF11E
  Header Version: 0x0100
  Header Length: 56 bytes
  Field Control: 0x0000
  Manufacturer ID: 0x1234
  Image Type: 0x0001
  File Version: 0x01020304 (1.2.3.4)
  Stack Version: 0x0002
  Header String: t|x
  Total Image Size: 94 bytes
Layout (94 bytes, 1 column = 2 bytes):
  |HHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHHH11111111111IIIIIIIIIIIIIII|
  H header, 1 sub-element, I integrity code
Sub-elements:
  1 Tag ID: 0x0000 (upgrade image)  Length: 10 bytes  Offset: 56  Data offset: 62
      Source: app.hex
      Firmware address range: 0x08000000-0x08000009
  I Tag ID: 0x0003 (image integrity code)  Length: 16 bytes  Offset: 72  Data offset: 78
      Source: AES-MMO integrity code
Integrity code: valid (standard) 000102030405060708090a0b0c0d0e0f
"""


def layout_md(name: str) -> str:
    """The layout of summary() (integrity on) as the step summary draws it: the text's bars."""
    del name  # the picture is the same whatever the file is called
    return (
        "```text\n"
        "Layout (94 bytes, 1 column = 2 bytes):\n"
        "  |" + "H" * 38 + "1" * 11 + "I" * 15 + "|\n"  # 56, 16 and 22 bytes of 94, to scale
        "  H header, 1 sub-element, I integrity code\n"
        "```\n\n"
    )


HEADER_MD = """\
| Field | Value |
|---|---|
| OTA File ID | 0x0BEEF11E |
| Header Version | 0x0100 |
| Header Length | 56 bytes |
| Field Control | 0x0000 |
| Manufacturer ID | 0x1234 |
| Image Type | 0x0001 |
| File Version | 0x01020304 (1.2.3.4) |
| Stack Version | 0x0002 |
| Header String | t\\|x |
| Total Image Size | 94 bytes |

**Sub-elements**

| Tag | Name | Length | Offset | Data offset | Source |
|---|---|---|---|---|---|
| 0x0000 | upgrade image | 10 | 56 | 62 | app.hex |
| 0x0003 | image integrity code | 16 | 72 | 78 | AES-MMO integrity code |

**Integrity code:** valid (standard) 000102030405060708090a0b0c0d0e0f
"""

OTA_JSON = {
    "header_version": 0x0100,
    "header_length": 56,
    "field_control": 0,
    "manufacturer_code": 0x1234,
    "image_type": 1,
    "file_version": 0x01020304,
    "zigbee_stack_version": 2,
    "header_string": "t|x",
    "header_string_hex": "747c78" + "00" * 29,
    "total_image_size": 94,
    "security_credential_version": None,
    "upgrade_file_destination": None,
    "minimum_hardware_version": None,
    "maximum_hardware_version": None,
    "sub_elements": [
        {
            "tag": 0,
            "length": 10,
            "offset": 56,
            "data_offset": 62,
            "name": "upgrade image",
            "source": "app.hex",
            "address_range": "0x08000000-0x08000009",
        },
        {
            "tag": 3,
            "length": 16,
            "offset": 72,
            "data_offset": 78,
            "name": "image integrity code",
            "source": "AES-MMO integrity code",
        },
    ],
    "sub_elements_total": 2,
    "sub_elements_listed": 2,
    "trailing_bytes": 0,
    "file_size": 94,
    "integrity": {"present": True, "valid": True, "variant": "standard", "stored": STORED.hex()},
}


def test_zbota_result_every_view(tmp_path: Path) -> None:
    out = tmp_path / "dist" / "app.ota"
    result = ZbotaResult(outfile=out, size=94, sha256=SHA, ota=summary())
    assert result.text() == HEADER_TEXT + (
        f"File size: 94 bytes\nSHA-256: {SHA}\nOTA image generated and saved to: {out}\n"
        f"Result: written ({out}, 94 bytes, 2 sub-elements, integrity code matches)\n"
    )
    assert result.markdown() == (
        f"### ✅ ota-action zbota\n\n**File:** {out} (94 bytes)\n\n{layout_md('app.ota')}"
        f"{HEADER_MD}\n**SHA-256:** `{SHA}`\n"
    )
    expected = {
        "schema_version": 1,
        "command": "zbota",
        "ok": True,
        "outfile": str(out),
        "size": 94,
        "sha256": SHA,
        **OTA_JSON,
        "warnings": [],
        "errors": [],
        "findings": [],
    }
    assert result.to_json() == expected
    assert list(result.to_json())[:7] == [
        "schema_version", "command", "ok", "outfile", "size", "sha256", "header_version"
    ]  # fmt: skip
    outputs = result.outputs(tmp_path)
    assert outputs == {
        "ota-file": "dist/app.ota",
        "sha256": SHA,
        "size": "94",
        "file-version": "0x01020304",
        "summary-json": json.dumps(expected, separators=(",", ":")),
    }
    assert result.outputs(tmp_path / "elsewhere")["ota-file"] == str(out)  # outside: as given
    assert (result.ok, result.exit_code, result.written()) == (True, 0, (out,))


def test_inspect_result_reports_findings_as_warnings_with_codes() -> None:
    finding = Finding.warning(
        "trailing-bytes", "4 bytes after the total image size 94 are not part of the image"
    )
    result = InspectResult(
        file=Path("f.ota"), sha256=SHA, ota=summary(integrity=False, trailing=4), findings=(finding,)
    )
    text = result.text()
    assert text.startswith(f"File: f.ota\n  98 bytes, SHA-256 {SHA}\nZigbee OTA Header:\n")
    assert text.endswith(
        "Integrity code: none\nTrailing bytes after total image size: 4\n"
        "warning: 4 bytes after the total image size 94 are not part of the image\n"
        "Result: read (1 sub-element, no integrity code, 1 warning)\n"
    )
    assert result.markdown().endswith(
        f"**Integrity code:** none\n\n**SHA-256:** `{SHA}`\n"
        "- ⚠️ 4 bytes after the total image size 94 are not part of the image\n"
    )
    data = result.to_json()
    assert data["findings"] == [
        {
            "level": "warning",
            "code": "trailing-bytes",
            "message": "4 bytes after the total image size 94 are not part of the image",
        }
    ]
    assert (data["warnings"], data["errors"], data["ok"]) == ([finding.message], [], True)
    assert result.outputs(Path("/"))["size"] == "98"
    assert "ota-file" not in result.outputs(Path("/"))
    assert result.written() == ()


def test_verify_result_error_makes_it_invalid_everywhere() -> None:
    error = Finding.error("integrity", "the integrity code does not match the file under any known rule")
    result = VerifyResult(
        file=Path("f.ota"), sha256=SHA, ota=summary(), signature="invalid: no", findings=(error,)
    )
    assert (result.ok, result.exit_code) == (False, 1)
    assert result.text().endswith(
        "XBee file-system signature: invalid: no\n"
        "error: the integrity code does not match the file under any known rule\n"
        "Result: invalid (1 error)\n"
    )
    md = result.markdown()
    assert md.startswith("### ❌ ota-action verify\n\n**File:** f.ota (94 bytes)\n\n")
    assert md.endswith(
        f"\n**Signature:** invalid: no\n\n**SHA-256:** `{SHA}`\n"
        "- ❌ the integrity code does not match the file under any known rule\n"
    )
    data = result.to_json()
    assert list(data)[-5:] == ["signature", "valid", "warnings", "errors", "findings"]
    assert (data["signature"], data["valid"], data["ok"]) == ("invalid: no", False, False)
    assert data["findings"] == [{"level": "error", "code": "integrity", "message": error.message}]
    assert data["errors"] == [error.message]


def test_combine_result_every_view(tmp_path: Path) -> None:
    start = StartAddress(LINEAR_START, 0x101)
    overlap = Overlap("a.hex", "b.hex", Range(0x20, 0x40), [Range(0x30, 0x32)], "b.hex")
    result = CombineResult(
        outfile=tmp_path / "all.hex",
        size=296,
        sha256=SHA,
        record_length=16,
        inputs=(
            CombineInput("a.hex", (Range(0, 0x40),), start, 64, 1),
            CombineInput("b.hex", (Range(0x20, 0x60),), None, 64, 1),
        ),
        merged_ranges=(Range(0, 0x60),),
        merged_ranges_total=1,
        data_bytes=96,
        gaps=(),
        gaps_total=0,
        overlap_policy="keep-last",
        overlapping_bytes=32,
        overridden_bytes=2,
        overlaps=(overlap,),
        overlaps_total=1,
        start_address=start,
        start_source="a.hex",
    )
    assert result.text() == (
        "Memory map (0x00000000-0x0000005F, 1 column = 2 bytes):\n"
        "  a.hex   |" + "#" * 43 + "." * 21 + "|\n"
        "  b.hex   |" + "." * 21 + "#" * 43 + "|\n"
        "  result  |" + "#" * 21 + "X" * 22 + "#" * 21 + "|\n"
        "  # data, . nothing, X overlap\n"
        "Inputs:\n"
        "  a.hex (Intel HEX): 64 bytes in 0x00000000-0x0000003F (64 bytes)\n"
        "    start address: EIP 0x00000101 (type 05)\n"
        "  b.hex (Intel HEX): 64 bytes in 0x00000020-0x0000005F (64 bytes)\n"
        "Merged: 96 bytes in 0x00000000-0x0000005F (96 bytes)\n"
        "Gaps: none\n"
        "Overlaps (keep-last): 32 bytes, 30 identical, 2 overridden\n"
        "  0x00000020-0x0000003F: a.hex / b.hex, 2 differing bytes from 0x00000030-0x00000031, kept b.hex\n"
        "Start address: EIP 0x00000101 (type 05) from a.hex\n"
        "Records: 16 data bytes each, type 04 extended linear addresses\n"
        "File size: 296 bytes\n"
        f"SHA-256: {SHA}\n"
        f"Combined HEX written to: {tmp_path / 'all.hex'}\n"
        f"Result: written ({tmp_path / 'all.hex'}, 96 data bytes in 1 range, 32 overlapping bytes)\n"
    )
    assert (
        result.markdown()
        == (
            "### ✅ ota-action combine\n\n"
            "```text\n"  # the text's memory map: b.hex starts at 0x20, the overlap is 0x20-0x3F
            "Memory map (0x00000000-0x0000005F, 1 column = 2 bytes):\n"
            "  a.hex   |" + "#" * 43 + "." * 21 + "|\n"
            "  b.hex   |" + "." * 21 + "#" * 43 + "|\n"
            "  result  |" + "#" * 21 + "X" * 22 + "#" * 21 + "|\n"
            "  # data, . nothing, X overlap\n```\n\n"
            "| Input | Kind | Bytes | Ranges | Start address |\n|---|---|---|---|---|\n"
            "| a.hex | Intel HEX | 64 | 0x00000000-0x0000003F (64 bytes) | EIP 0x00000101 (type 05) |\n"
            "| b.hex | Intel HEX | 64 | 0x00000020-0x0000005F (64 bytes) |  |\n\n"
            "**Merged:** 96 bytes in 0x00000000-0x0000005F (96 bytes)\n\n"
            "**Gaps:** none\n\n"
            "**Overlaps (keep-last):** 32 bytes, 30 identical, 2 overridden\n\n"
            "**Start address:** EIP 0x00000101 (type 05) from a.hex\n\n"
            f"**Output:** {tmp_path / 'all.hex'}, 296 bytes, 16 data bytes per record\n\n"
            f"**SHA-256:** `{SHA}`\n"
        )
    )
    data = result.to_json()
    assert data["overlaps"] == {
        "policy": "keep-last",
        "overlapping_bytes": 32,
        "identical_bytes": 30,
        "overridden_bytes": 2,
        "regions": [
            {
                "files": ["a.hex", "b.hex"],
                "start": 0x20,
                "end": 0x3F,
                "size": 32,
                "range": "0x00000020-0x0000003F",
                "identical_bytes": 30,
                "conflicting_bytes": 2,
                "first_conflict": {"start": 0x30, "end": 0x31, "size": 2, "range": "0x00000030-0x00000031"},
                "kept": "b.hex",
            }
        ],
        "regions_total": 1,
    }
    assert data["inputs"][0] == {
        "file": "a.hex",
        "kind": "Intel HEX",
        "ranges": [{"start": 0, "end": 0x3F, "size": 64, "range": "0x00000000-0x0000003F"}],
        "ranges_total": 1,
        "bytes": 64,
        "start_address": {"record_type": 5, "value": 0x101, "text": "EIP 0x00000101 (type 05)"},
    }
    assert data["start_address"] == {
        "record_type": 5,
        "value": 0x101,
        "text": "EIP 0x00000101 (type 05)",
        "source": "a.hex",
    }
    assert (data["data_bytes"], data["gaps"], data["record_length"]) == (96, [], 16)
    outputs = result.outputs(tmp_path)
    assert {k: v for k, v in outputs.items() if k != "summary-json"} == {
        "ota-file": "all.hex",
        "sha256": SHA,
        "size": "296",
    }


def test_xbee_fs_result_every_view(tmp_path: Path) -> None:
    header = OtaHeader.create(manufacturer_code=0x101E, image_type=0x0100, file_version=0x0100100D)
    ota = OtaSummary(
        header=header.with_total_size(4230),
        sub_elements=(ElementRow(0, 4168, 56),),
        integrity=IntegrityResult(False, None, None),
        file_size=4230,
    )
    warning = Finding.warning("output-name", "output name 'fs.bin' does not end in .fsota, .ota or .otb")
    result = XbeeFsResult(
        outfile=tmp_path / "fs.bin",
        size=4230,
        sha256=SHA,
        image=Path("xbfs.bin"),
        image_size=2304,
        padded_size=4096,
        signature_length=72,
        signature_form="as signed",
        signature="ECDSA P-256/SHA-256, 72-byte DER (as signed), key fingerprint ff",
        public_key_fingerprint="ff",
        fk="04AB",
        key_form="PEM (PKCS#8)",
        ota=ota,
        findings=(warning,),
    )
    assert result.text().endswith(
        "Integrity code: none\n"
        "XBee3 file system:\n"
        "  Image: xbfs.bin (2304 bytes)\n"
        "  Padded to: 4096 bytes (1792 x 0xFF)\n"
        "  Signature: 72 bytes DER, as signed\n"
        "  File version: 0x0100100D (VR 100D, compatibility 1, Zigbee)\n"
        "  Key: PEM (PKCS#8), fingerprint (sha256 of FK) ff\n"
        "  FK (device public key): 04AB\n"
        "File size: 4230 bytes\n"
        f"SHA-256: {SHA}\n"
        f"XBee3 file-system OTA image saved to: {tmp_path / 'fs.bin'}\n"
        "warning: output name 'fs.bin' does not end in .fsota, .ota or .otb\n"
        f"Result: written ({tmp_path / 'fs.bin'}, 4230 bytes, signature 72 bytes DER, 1 warning)\n"
    )
    assert result.markdown().endswith(
        "**Integrity code:** none\n\n"
        "**Signature:** ECDSA P-256/SHA-256, 72-byte DER (as signed), key fingerprint ff\n\n"
        f"**SHA-256:** `{SHA}`\n"
        "- ⚠️ output name 'fs.bin' does not end in .fsota, .ota or .otb\n"
    )
    data = result.to_json()
    assert (data["vr"], data["compatibility"], data["protocol"], data["padding"]) == (
        "100D",
        1,
        "Zigbee",
        1792,
    )
    assert data["findings"] == [{"level": "warning", "code": "output-name", "message": warning.message}]
    assert result.outputs(tmp_path)["file-version"] == "0x0100100D"
    assert result.outputs(tmp_path)["ota-file"] == "fs.bin"


def test_keygen_result_never_shows_the_private_key_in_repr(tmp_path: Path) -> None:
    private = "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JR0hBZ0VBTUJNR0J5cUdTTTQ5"
    result = KeygenResult(
        private_out=tmp_path / "k.pem",
        public_out=None,
        fk="04AB",
        public_key_fingerprint="ff",
        public_key_pem="-----BEGIN PUBLIC KEY-----\n",
        private_key_base64=Secret(private, source="test"),
    )
    assert private not in repr(result)
    assert private not in str(result)
    assert private not in result.markdown()  # a step summary outlives the run
    assert result.text().endswith(
        f"  ATFK04AB\n{result.text().splitlines()[-3]}\n  {private}\n"
        f"Result: written (private key {tmp_path / 'k.pem'})\n"
    )
    assert result.to_json()["private_key_base64"] == private  # printing it is keygen's purpose
    assert result.to_json()["curve"] == "P-256 (secp256r1 / prime256v1)"
    assert result.written() == (tmp_path / "k.pem",)


def test_secret_never_prints_itself() -> None:
    secret = Secret("hunter2-key-material", source="input signing-key", field="signing_key")
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret!r}", f"{secret:>30}", repr([secret])):
        assert "hunter2" not in shown
    assert str(secret) == "**********"
    assert secret.reveal() == "hunter2-key-material"
    assert secret.source == "input signing-key"
    assert not Secret("  \n", source="x")
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_tag_and_field_control_enums_match_zigpy() -> None:
    """zigpy's ota/image.py as the independent oracle for the spec's numbers."""
    zigpy_image = pytest.importorskip("zigpy.ota.image")
    names = {
        "ECDSA_SIGNATURE_CRYPTO_SUITE_1": "ECDSA_SIGNATURE_SUITE_1",
        "ECDSA_SIGNING_CERTIFICATE_CRYPTO_SUITE_1": "ECDSA_CERTIFICATE_SUITE_1",
        "ECDSA_SIGNATURE_CRYPTO_SUITE_2": "ECDSA_SIGNATURE_SUITE_2",
        "ECDSA_SIGNING_CERTIFICATE_CRYPTO_SUITE_2": "ECDSA_CERTIFICATE_SUITE_2",
    }
    for tag in zigpy_image.ElementTagId:
        assert Tag[names.get(tag.name, tag.name)] == int(tag)
    assert [int(f) for f in zigpy_image.FieldControl] == [int(f) for f in FieldControl]
    assert f"0x{Tag.IMAGE_INTEGRITY_CODE:04X}" == "0x0003"
    assert json.dumps({"tag": Tag.PADDING}) == '{"tag": 65535}'


# --- through the CLI: codes in --json -----------------------------------------------------


def test_verify_json_carries_finding_codes(tmp_path: Path) -> None:
    from ota_action.formats.zigbee import SubElement, build_image

    header = OtaHeader.create(manufacturer_code=0x1234, image_type=1, file_version=7)
    data = bytearray(build_image(header, [SubElement(0, bytes(200))], integrity=True))
    data[100] ^= 1
    path = tmp_path / "f.ota"
    path.write_bytes(bytes(data) + b"CRC!")
    result = run_cli("verify", path, "--json")
    assert result.code == 1
    report = json.loads(result.out)
    crc = zlib.crc32(bytes(data))  # 4 trailing bytes are compared with the Salus CRC-32
    assert report["findings"] == [
        {
            "level": "warning",
            "code": "trailing-bytes",
            "message": "4 bytes after the total image size 284 are not part of the image "
            f"(nor a CRC-32 of it, which is 0x{crc:08X})",
        },
        {
            "level": "error",
            "code": "integrity",
            "message": "the integrity code does not match the file under any known rule",
        },
    ]
    assert report["warnings"] == [report["findings"][0]["message"]]
    assert report["errors"] == [report["findings"][1]["message"]]
    inspect = json.loads(run_cli("inspect", path, "--json").out)
    assert [(f["level"], f["code"]) for f in inspect["findings"]] == [
        ("warning", "trailing-bytes"),
        ("warning", "integrity"),
    ]


def test_every_registered_command_loads_its_parts() -> None:
    from ota_action.commands import COMMANDS
    from ota_action.settings import CommandSettings

    signing = set()
    for name, spec in COMMANDS.items():
        command = spec.load()
        assert issubclass(command.settings, CommandSettings), name
        if command.signs:
            signing.add(name)
    # keygen: a PIN; zbota (--gbl --sign) and build: the GBLs they sign
    assert signing == {"xbee-fs", "keygen", "gbl", "mcuboot", "zbota", "build"}
