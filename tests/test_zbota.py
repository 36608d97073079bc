"""zbota: the ElCap examples, every header option, and zigpy as an independent parser."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zigpy.ota.image import OTAImage

from ota_action.formats.zigbee.integrity import aes_mmo
from tests.conftest import run_cli


def zbota(tmp_path: Path, *args: str | Path) -> tuple[bytes, dict[str, Any]]:
    out = tmp_path / "out.ota"
    result = run_cli("zbota", "-o", out, *args, "--json")
    assert result.code == 0, result.err
    return out.read_bytes(), json.loads(result.out)


def fixed_header(data: bytes) -> tuple[object, ...]:
    return struct.unpack_from("<IHHHHHIH32sI", data)


@pytest.mark.parametrize(
    ("version", "string", "file_version"),
    [("0.0.0.1", "NULL Downgrade File", 0x00000001), ("0xffffffff", "NULL Upgrade File", 0xFFFFFFFF)],
)
def test_elcap_null_files(tmp_path: Path, version: str, string: str, file_version: int) -> None:
    data, summary = zbota(
        tmp_path, "--mfg-id", "0x1570", "--image-type", "0x0001", "--version", version,
        "--tag", "0x0000:32", "--string", string,
    )  # fmt: skip
    assert len(data) == 94
    assert fixed_header(data) == (
        0x0BEEF11E, 0x0100, 56, 0x0000, 0x1570, 0x0001, file_version, 0x0002,
        string.encode().ljust(32, b"\0"), 94,
    )  # fmt: skip
    assert data[56:62] == b"\x00\x00\x20\x00\x00\x00"
    assert data[62:] == b"\xff" * 32
    assert summary["sub_elements"] == [
        {
            "tag": 0,
            "length": 32,
            "offset": 56,
            "data_offset": 62,
            "name": "upgrade image",
            "source": "NULL data (32 x 0xFF)",
        }
    ]


def test_elcap_aligned_image(tmp_path: Path) -> None:
    app = tmp_path / "app.bin"
    app.write_bytes(os.urandom(322304))
    data, summary = zbota(
        tmp_path, "-m", "0x1570", "-i", "0x0001", "-v", "0x20251205", "-t", f"0x0000:{app}",
        "--align", "256", "--string", "Default Trident OTA header data.",
    )  # fmt: skip
    assert len(data) == 322560
    assert [(e["tag"], e["length"], e["offset"]) for e in summary["sub_elements"]] == [
        (0xFFFF, 188, 56),
        (0x0000, 322304, 250),
    ]
    assert data[256:] == app.read_bytes()
    assert data[62:250] == b"\xff" * 188


def test_elcap_combo_with_integrity(tmp_path: Path) -> None:
    app, secondary = tmp_path / "app.bin", tmp_path / "secondary_fw.bin"
    app.write_bytes(os.urandom(322304))
    secondary.write_bytes(os.urandom(421120))
    data, summary = zbota(
        tmp_path, "-m", "0x1570", "-i", "0x0001", "-v", "0x20251205", "-t", f"0x0000:{app}",
        "-t", f"0xf000:{secondary}", "--integrity", "--align", "256",
    )  # fmt: skip
    assert len(data) == 743708
    assert struct.unpack_from("<I", data, 52) == (743708,)
    assert data[-22:-16] == b"\x03\x00\x10\x00\x00\x00"
    assert data[-16:] == aes_mmo(data[:-22])
    assert summary["integrity"] == {
        "present": True,
        "valid": True,
        "variant": "standard",
        "stored": data[-16:].hex(),
    }


def test_all_optional_fields_and_zigpy_agrees(tmp_path: Path) -> None:
    data, summary = zbota(
        tmp_path, "-m", "4447", "-i", "0xFFC1", "-v", "1.2.3.4", "-t", "0x0000:10",
        "-c", "2", "-d", "00:0d:6f:00:00:19:8b:36", "--min-hwv", "0x0100", "--max-hwv", "0x0102",
        "--stack-version", "1", "--string", "all fields",
    )  # fmt: skip
    assert summary["header_length"] == 69
    assert summary["field_control"] == 0x0007
    assert data[56] == 2
    assert data[57:65] == bytes.fromhex("368b1900006f0d00")
    assert data[65:69] == bytes.fromhex("00010201")
    image, rest = OTAImage.deserialize(data)
    assert rest == b""
    h = image.header
    assert (h.manufacturer_id, h.image_type, h.file_version) == (4447, 0xFFC1, 0x01020304)
    assert h.security_credential_version == 2
    assert str(h.upgrade_file_destination) == "00:0d:6f:00:00:19:8b:36"
    assert (h.minimum_hardware_version, h.maximum_hardware_version) == (0x0100, 0x0102)
    assert h.stack_version == 1
    assert bytes(h.header_string) == b"all fields".ljust(32, b"\0")
    assert summary["upgrade_file_destination"] == "000D6F0000198B36"


@pytest.mark.parametrize(
    ("given_args", "expected"),
    [(["--min-hwv", "0x0200"], (0x0200, 0xFFFF)), (["--max-hwv", "0x0300"], (0x0000, 0x0300))],
)
def test_one_hardware_bound_fills_the_other(
    tmp_path: Path, given_args: list[str], expected: tuple[int, int]
) -> None:
    data, summary = zbota(tmp_path, "-m", "1", "-i", "1", "-v", "1", "-t", "0x0000:4", *given_args)
    assert summary["field_control"] == 0x0004
    assert struct.unpack_from("<HH", data, 56) == expected


def test_align_when_already_aligned_adds_nothing(tmp_path: Path) -> None:
    # The image data starts at 56 + 6 = 62; align 2 is already satisfied.
    data, summary = zbota(tmp_path, "-m", "1", "-i", "1", "-v", "1", "-t", "0x0000:8", "--align", "2")
    assert [e["tag"] for e in summary["sub_elements"]] == [0]
    assert len(data) == 70


def test_align_pads_before_the_upgrade_image_not_before_earlier_tags(tmp_path: Path) -> None:
    data, summary = zbota(
        tmp_path, "-m", "1", "-i", "1", "-v", "1", "-t", "0xf000:10", "-t", "0x0000:100", "--align", "64"
    )
    elements = summary["sub_elements"]
    assert [e["tag"] for e in elements] == [0xF000, 0xFFFF, 0x0000]
    assert (elements[2]["offset"] + 6) % 64 == 0
    assert data[elements[2]["offset"] + 6 :] == b"\xff" * 100


def test_tags_keep_command_line_order_and_files_are_read(tmp_path: Path) -> None:
    first, second = tmp_path / "a.bin", tmp_path / "b.bin"
    first.write_bytes(b"first")
    second.write_bytes(b"second!")
    data, summary = zbota(
        tmp_path, "-m", "1", "-i", "1", "-v", "1", "-t", f"0xf100:{first}", "-t", f"0x0000:{second}",
        "-t", "0x0004:3", "--fill", "0x00",
    )  # fmt: skip
    assert data[56:] == b"\x00\xf1\x05\x00\x00\x00first" + b"\x00\x00\x07\x00\x00\x00second!" + (
        b"\x04\x00\x03\x00\x00\x00\x00\x00\x00"
    )
    assert [e["source"] for e in summary["sub_elements"]] == [str(first), str(second), "NULL data (3 x 0x00)"]


def test_reserved_tag_allowed_on_request(tmp_path: Path) -> None:
    _, summary = zbota(tmp_path, "-m", "1", "-i", "1", "-v", "1", "-t", "0xCDEF:17", "--allow-reserved-tag")
    assert summary["sub_elements"][0]["tag"] == 0xCDEF


def test_environment_variables_supply_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTA_MFG_ID", "0x1234")
    monkeypatch.setenv("OTA_IMAGE_TYPE", "")  # empty means unset: the command line supplies it
    monkeypatch.setenv("OTA_TAG", "0x0000:16\n0xf000:4\n")
    monkeypatch.setenv("OTA_INTEGRITY", "true")
    data, summary = zbota(tmp_path, "-i", "2", "-v", "3")
    assert data[:4] == bytes.fromhex("1ef1ee0b")
    assert summary["manufacturer_code"] == 0x1234
    assert [e["tag"] for e in summary["sub_elements"]] == [0x0000, 0xF000, 0x0003]
    assert len(data) == 56 + 22 + 10 + 22


def test_text_summary_shows_what_elcap_shows(tmp_path: Path) -> None:
    out = tmp_path / "null.ota"
    result = run_cli(
        "zbota", "-o", out, "-m", "0x1570", "-i", "0x0001", "-v", "0xffffffff", "-t", "0x0000:32",
        "--string", "NULL Upgrade File",
    )  # fmt: skip
    assert result.code == 0
    for line in (
        "OTA File ID: 0x0BEEF11E",
        "Header Version: 0x0100",
        "Header Length: 56 bytes",
        "Field Control: 0x0000",
        "Manufacturer ID: 0x1570",
        "Image Type: 0x0001",
        "File Version: 0xFFFFFFFF (255.255.255.255)",
        "Stack Version: 0x0002",
        "Header String: NULL Upgrade File",
        "Total Image Size: 94 bytes",
        "Tag ID: 0x0000",
        "Length: 32 bytes",
        f"OTA image generated and saved to: {out}",
    ):
        assert line in result.out
    assert "SHA-256: " in result.out


def test_same_inputs_same_bytes(tmp_path: Path) -> None:
    args = ("-m", "1", "-i", "1", "-v", "1.0.0.0", "-t", "0x0000:300", "-ic", "--string", "x")
    first, _ = zbota(tmp_path, *args)
    second, _ = zbota(tmp_path, *args)
    assert first == second


tag_ids = st.one_of(st.just(0x0000), st.just(0x0004), st.integers(0xF000, 0xFFFE))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    mfg=st.integers(0, 0xFFFF),
    image_type=st.integers(0, 0xFFFF),
    version=st.integers(0, 0xFFFFFFFF),
    stack=st.integers(0, 0xFFFF),
    tags=st.lists(st.tuples(tag_ids, st.integers(0, 3000)), min_size=1, max_size=4, unique_by=lambda t: t[0]),
    string=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=32),
    credentials=st.none() | st.integers(0, 255),
    dest=st.none() | st.integers(0, 2**64 - 1),
    hw=st.none() | st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)).map(sorted),
    integrity=st.booleans(),
    align=st.none() | st.sampled_from([2, 16, 64, 256, 1000]),
)
def test_zigpy_parses_every_option_combination(
    tmp_path: Path,
    mfg: int,
    image_type: int,
    version: int,
    stack: int,
    tags: list[tuple[int, int]],
    string: str,
    credentials: int | None,
    dest: int | None,
    hw: list[int] | None,
    integrity: bool,
    align: int | None,
) -> None:
    args: list[str] = [
        "-m",
        hex(mfg),
        "-i",
        str(image_type),
        "-v",
        hex(version),
        "--stack-version",
        str(stack),
    ]
    for tag, length in tags:
        args += ["-t", f"0x{tag:04x}:{length}"]
    if string:
        args.append(f"--string={string}")  # a string may start with "-"
    if credentials is not None:
        args += ["-c", str(credentials)]
    if dest is not None:
        args += ["-d", f"{dest:016x}"]
    if hw is not None:
        args += ["--min-hwv", hex(hw[0]), "--max-hwv", hex(hw[1])]
    if integrity:
        args.append("-ic")
    has_image = any(tag == 0 for tag, _ in tags)
    if align is not None and has_image:
        args += ["--align", str(align)]
    data, summary = zbota(tmp_path, *args)

    image, rest = OTAImage.deserialize(data)
    assert rest == b""
    h = image.header
    assert h.header_length == summary["header_length"]
    assert (h.manufacturer_id, h.image_type, h.file_version, h.stack_version) == (
        mfg,
        image_type,
        version,
        stack,
    )
    assert bytes(h.header_string) == string.encode().ljust(32, b"\0")
    assert h.image_size == len(data)
    assert h.security_credential_version == credentials
    if dest is not None:
        assert int(str(h.upgrade_file_destination).replace(":", ""), 16) == dest
    if hw is not None:
        assert (h.minimum_hardware_version, h.maximum_hardware_version) == tuple(hw)
    zigpy_tags = [int(e.tag_id) for e in image.subelements]
    ours = [e["tag"] for e in summary["sub_elements"]]
    assert zigpy_tags == ours
    assert [t for t in ours if t not in (0xFFFF, 0x0003)] == [t for t, _ in tags]
    if integrity:
        assert ours[-1] == 0x0003
        assert bytes(image.subelements[-1].data) == aes_mmo(data[:-22])
    if align is not None and has_image:
        first_image = next(e for e in summary["sub_elements"] if e["tag"] == 0)
        assert (first_image["offset"] + 6) % align == 0


def test_the_index_digests_are_computed_only_for_a_door_that_publishes_them(tmp_path: Path) -> None:
    """The CLI prints SHA-256 only, so zbota skips SHA-512 and SHA3-256 (2.9 ms a MiB);
    the Action's outputs name them, so there they are computed (tests/test_action.py)."""
    import hashlib
    import io

    from ota_action.edges import published
    from ota_action.formats.zigbee.header import OtaHeader
    from ota_action.formats.zigbee.image import plan_image, write_image
    from ota_action.formats.zigbee.sources import BytesSource

    header = OtaHeader.create(manufacturer_code=0x1234, image_type=1, file_version=1)
    plan = plan_image(header, [(0, BytesSource(b"firmware" * 100))])
    quick, full = io.BytesIO(), io.BytesIO()
    lean = write_image(plan, quick, index_digests=False)
    whole = write_image(plan, full)
    data = full.getvalue()
    assert quick.getvalue() == data
    assert lean.sha256 == whole.sha256 == hashlib.sha256(data).hexdigest()
    assert (lean.sha512, lean.sha3_256) == ("", "")
    assert (whole.sha512, whole.sha3_256) == (
        hashlib.sha512(data).hexdigest(),
        hashlib.sha3_256(data).hexdigest(),
    )
    assert published.INDEX_DIGESTS.get() is False  # the CLI's
