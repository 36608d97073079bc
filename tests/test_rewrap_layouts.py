"""``rewrap`` of every layout ``inspect`` reads, and its size limits checked before reading.

Issue 18: ``rewrap`` refused a Philips Hue SBL file and a LEDVANCE file (2 bytes after
its last element) that ``verify`` calls valid, and exited 70 above 512 MiB with
``--integrity-variant`` and when a grown header pushed a near-4 GiB file past the u32
total image size.  A header change keeps every byte after the header; sizes are
checked from the header and the element walk, so the sparse files below are never read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ota_action.formats.zigbee.elements import SubElement, encode_tag_header
from ota_action.formats.zigbee.header import OtaHeader, decode_header, encode_header
from ota_action.formats.zigbee.image import build_image
from tests.conftest import corpus_folders
from tests.subproc import every_file, ota
from tests.vendor_files import hue_sbl, telink_ota

CHANGES = ("--version", "0x00000010", "--dest-eui64", "0011223344556677", "--string", "rewrapped")


def _check_rewrapped(tmp_path: Path, name: str, data: bytes, layout: str) -> None:
    (tmp_path / name).write_bytes(data)
    before = ota("verify", name, "--json", cwd=tmp_path)
    assert before.code == 0, before.text
    result = ota("rewrap", name, "-o", "new-" + name, *CHANGES, cwd=tmp_path)
    assert result.code == 0, result.text
    new = (tmp_path / ("new-" + name)).read_bytes()
    old_header, new_header = decode_header(data), decode_header(new)
    assert new_header.header_length == old_header.header_length + 8  # the destination field
    assert new[new_header.header_length :] == data[old_header.header_length :]  # every byte kept
    assert new_header.total_image_size == old_header.total_image_size + 8
    assert (new_header.file_version, new_header.upgrade_file_destination) == (0x10, 0x0011223344556677)
    assert new_header.header_string.rstrip(b"\0") == b"rewrapped"
    after = ota("verify", "new-" + name, "--json", cwd=tmp_path)
    assert after.code == 0, after.text
    assert json.loads(after.out)["layout"] == json.loads(before.out)["layout"] == layout


def test_a_hue_sbl_file_is_rewrapped_keeping_its_raw_image(tmp_path: Path) -> None:
    _check_rewrapped(tmp_path, "lamp.sbl-ota", hue_sbl(), "hue-sbl")


def test_a_telink_file_with_bytes_after_its_last_element_is_rewrapped(tmp_path: Path) -> None:
    """LEDVANCE's files: a 2-byte tag info makes the element 2 bytes longer than it says."""
    _check_rewrapped(tmp_path, "A60_DIM_T-0x00CD.OTA", telink_ota(), "telink-encrypted")


@pytest.mark.corpus
def test_the_real_vendor_layout_files_are_rewrapped(tmp_path: Path) -> None:
    folder = corpus_folders()["ota-vendor"]
    for name, layout in (
        ("A60_DIM_T-0x00CD-0x03483712-MF_DIS.OTA", "telink-encrypted"),
        ("ConnectedLamp-Atmel-Target_0012.sbl-ota", "hue-sbl"),
    ):
        _check_rewrapped(tmp_path, name, (folder / name).read_bytes(), layout)


def test_a_file_no_layout_explains_is_still_refused(tmp_path: Path) -> None:
    data = bytearray(
        build_image(OtaHeader.create(manufacturer_code=0x1234, image_type=1, file_version=1), [])
    )
    data += encode_tag_header(0, 10) + bytes(10) + b"\xff\xff"  # 2 stray bytes no vendor explains
    data[52:56] = len(data).to_bytes(4, "little")
    (tmp_path / "odd.ota").write_bytes(bytes(data))
    before = every_file(tmp_path)
    result = ota("rewrap", "odd.ota", "-o", "out.ota", "--version", "2", cwd=tmp_path)
    assert result.code == 2, result.text
    assert "2 stray bytes at offset 72" in result.err
    assert every_file(tmp_path) == before


def _sparse(path: Path, element: int, *, integrity: bool) -> None:
    """A header, a 0x0000 element of ``element`` bytes left as a hole, maybe a 0x0003 element."""
    total = 56 + 6 + element + (22 if integrity else 0)
    header = OtaHeader.create(manufacturer_code=0x1234, image_type=1, file_version=1).with_total_size(total)
    with path.open("wb") as handle:
        handle.write(encode_header(header) + encode_tag_header(0, element))
        handle.seek(56 + 6 + element)
        if integrity:
            handle.write(encode_tag_header(3, 16) + bytes(16))
        handle.truncate(total)


def test_an_integrity_code_over_512_mib_is_refused_before_reading(tmp_path: Path) -> None:
    _sparse(tmp_path / "big.ota", 600 << 20, integrity=True)
    before = every_file(tmp_path)
    result = ota(
        "rewrap", "big.ota", "-o", "out.ota", "--integrity-variant", "standard", "--version", "2",
        cwd=tmp_path, memory=512 << 20, timeout=60,
    )  # fmt: skip
    assert result.code == 2, result.text
    assert result.err == (
        "ota-action rewrap: error: --integrity-variant: the integrity code would cover 629145662 bytes; "
        "AES-MMO (Zigbee Annex B.6) stores the length in 32 bits and ends below 536870912 bytes (512 MiB), "
        "so no standard code exists for a file this large\n"
    )
    assert every_file(tmp_path) == before


def test_a_grown_header_past_the_u32_total_is_refused_before_reading(tmp_path: Path) -> None:
    _sparse(tmp_path / "near4g.ota", (1 << 32) - 56 - 6 - 4, integrity=False)
    before = every_file(tmp_path)
    result = ota(
        "rewrap", "near4g.ota", "-o", "out.ota", "--dest-eui64", "0011223344556677",
        cwd=tmp_path, memory=512 << 20, timeout=60,
    )  # fmt: skip
    assert result.code == 2, result.text
    assert result.err == (
        "ota-action rewrap: error: IN: would be 4294967300 bytes after the new header (64 bytes, was 56); "
        "the OTA header's total image size is a u32 and holds at most 4294967295 bytes\n"
    )
    assert every_file(tmp_path) == before


def test_a_signed_vendor_layout_is_refused_even_with_drop_signatures(tmp_path: Path) -> None:
    data = bytearray(telink_ota())
    signature = encode_tag_header(1, 42) + bytes(42)  # 0x0001 ECDSA signature after the layout
    data += signature
    data[52:56] = len(data).to_bytes(4, "little")
    (tmp_path / "signed.ota").write_bytes(bytes(data))
    if ota("verify", "signed.ota", cwd=tmp_path).code != 0:
        pytest.skip("the Telink layout does not list elements after its 0xF000 element")
    result = ota("rewrap", "signed.ota", "-o", "out.ota", "--version", "2", "--drop-signatures", cwd=tmp_path)
    assert result.code == 2, result.text
    assert "0x0001" in result.err
    assert not (tmp_path / "out.ota").exists()


def test_zbota_and_rewrap_stream_through_one_tee() -> None:
    """One writer: an image built and then rewrapped unchanged is the same bytes."""
    header = OtaHeader.create(manufacturer_code=0x1234, image_type=1, file_version=7)
    data = build_image(header, [SubElement(0, bytes(range(256)) * 9)], integrity=True)
    from ota_action.formats.zigbee.rewrap import HeaderChanges, rewrap_bytes

    same, plan = rewrap_bytes(data, HeaderChanges())
    assert same == data
    assert plan.integrity is not None
