"""Crafted inputs that used to take gigabytes, run as subprocesses under an address-space limit.

Each case is small on disk (sparse files, a few .hex lines, generated floods).  Before the
streaming engine every one of them needed from 128 MiB to 12 GiB; under ``LIMIT`` they now
finish with the right exit status and message and leave no file behind.  Nothing is timed.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from ota_action.formats.zigbee import aes
from ota_action.formats.zigbee.elements import ElementRef
from ota_action.formats.zigbee.header import OtaHeader, encode_header
from ota_action.formats.zigbee.image import (
    FillSource,
    parse_file,
    parse_image,
    plan_image,
    write_image,
)
from ota_action.formats.zigbee.integrity import IntegrityVariant
from tests.conftest import run_cli

LIMIT = 512 << 20  # address space: Python + cryptography need ~300 MiB, the old engine far more
ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is enforced on Linux")


def run_limited(
    cwd: Path, *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    child = (
        "import resource, sys, runpy\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({LIMIT}, {LIMIT}))\n"
        "sys.argv = ['ota-action', *sys.argv[1:]]\n"
        "runpy.run_module('ota_action', run_name='__main__')\n"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("OTA_", "GITHUB_", "INPUT_"))}
    environment.update(env or {})
    environment["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-c", child, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )


def only(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir())


def record(kind: int, offset: int, payload: bytes = b"") -> str:
    body = bytes([len(payload), offset >> 8, offset & 0xFF, kind]) + payload
    return ":" + (body + bytes([(256 - sum(body) % 256) % 256])).hex().upper()


ZBOTA = ("zbota", "-o", "out/x.ota", "-m", "0x1234", "-i", "1", "-v", "1")


def test_4_gib_null_tag_is_refused_from_its_size(tmp_path: Path) -> None:
    result = run_limited(tmp_path, *ZBOTA, "-t", "0x0000:4294967295")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "ota-action zbota: error: --tag: the file would be 4294967357 bytes; the OTA header's total "
        "image size is a u32 and holds at most 4294967295 bytes"
    ]
    assert only(tmp_path) == []


def test_integrity_past_the_aes_mmo_limit_is_refused(tmp_path: Path) -> None:
    result = run_limited(tmp_path, *ZBOTA, "-t", "0xF000:3000000000", "--integrity")
    assert result.returncode == 2, result.stderr
    assert "--integrity: the integrity code would cover 3000000062 bytes" in result.stderr
    assert "536870912" in result.stderr
    assert only(tmp_path) == []


def test_two_hex_records_256_mib_apart(tmp_path: Path) -> None:
    (tmp_path / "far.hex").write_text(
        "\n".join([record(0, 0, b"\x01"), record(4, 0, b"\x10\x00"), record(0, 0, b"\x02"), ":00000001FF"])
        + "\n"
    )
    result = run_limited(tmp_path, *ZBOTA, "-t", "0x0000:far.hex")
    assert result.returncode == 2, result.stderr
    assert "spans 0x00000000-0x10000000 (268435457 bytes)" in result.stderr
    assert only(tmp_path) == ["far.hex"]


def test_record_before_its_type_04_record_is_refused_not_filled(tmp_path: Path) -> None:
    lines = [record(0, 0x0000, b"\xaa" * 16), record(4, 0, b"\x08\x00")]
    lines += [record(0, 16 * i, bytes([i]) * 16) for i in range(8)]
    (tmp_path / "app.hex").write_text("\n".join([*lines, ":00000001FF"]) + "\n")
    result = run_limited(tmp_path, *ZBOTA, "-t", "0x0000:app.hex", "--integrity")
    assert result.returncode == 2, result.stderr
    assert "its 144 data bytes span 0x00000000-0x0800007F, so 134217712 bytes of 0xFF fill" in result.stderr
    assert "a data record before the file's first type 04 record" in result.stderr
    assert only(tmp_path) == ["app.hex"]


def test_gap_fill_larger_than_the_data_is_a_warning(tmp_path: Path) -> None:
    lines = [record(0, 0, b"\x01" * 16), record(0, 0x100, b"\x02" * 16), ":00000001FF"]
    (tmp_path / "gap.hex").write_text("\n".join(lines) + "\n")
    result = run_cli(
        *ZBOTA[:2], tmp_path / "g.ota", *ZBOTA[3:], "-t", f"0x0000:{tmp_path / 'gap.hex'}", "--json"
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["sub_elements"][0]["length"] == 0x110
    assert any(
        "240 bytes of 0xFF fill its gaps" in w and "more bytes than the data" in w for w in data["warnings"]
    )


def test_xbee_fs_on_a_4_gib_sparse_image(tmp_path: Path) -> None:
    image = tmp_path / "xbfs.bin"
    with image.open("wb") as f:
        f.truncate(4 << 30)
    result = run_limited(tmp_path, "xbee-fs", "xbfs.bin", "-o", "out/fs.fsota", "-v", "0x100D")
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("ota-action xbee-fs: error: IMAGE 'xbfs.bin': is 4294967296 bytes; padded to 2048")
    assert "at most 4294965248 bytes" in line
    assert "--tag" not in line
    assert only(tmp_path) == ["xbfs.bin"]


def test_a_5_gib_file_that_is_not_ota_is_refused_after_its_header(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as f:
        f.write(b"\x7fELF")
        f.truncate(5 << 30)
    result = run_limited(tmp_path, "inspect", big)
    assert result.returncode == 1, result.stderr
    assert "not a Zigbee OTA file: magic number 0x464C457F" in result.stderr


def _flood(path: Path, count: int) -> None:
    header = OtaHeader.create(manufacturer_code=1, image_type=1, file_version=1)
    body = struct.pack("<HI", 0xF001, 0) * count
    path.write_bytes(encode_header(header.with_total_size(56 + len(body))) + body)


@pytest.mark.parametrize("command", ["inspect", "verify"])
def test_a_flood_of_empty_sub_elements_lists_a_bounded_number(tmp_path: Path, command: str) -> None:
    count = 2_000_000  # 12 MB on disk
    _flood(tmp_path / "flood.ota", count)
    result = run_limited(tmp_path, command, "flood.ota", "--json")
    # A repeated manufacturer tag is a warning (issue 13): the flood is valid, only long.
    assert result.returncode == 0, result.stderr[-500:]
    data = json.loads(result.stdout)
    assert data["sub_elements_total"] == count
    assert data["sub_elements_listed"] == len(data["sub_elements"]) == 1000
    assert data["sub_elements"][-1] == {
        "tag": 0xF001,
        "length": 0,
        "offset": 56 + 999 * 6,
        "data_offset": 56 + 999 * 6 + 6,
        "name": "manufacturer-specific",
    }
    assert f"tag 0xF001 (manufacturer-specific) appears {count} times" in " ".join(
        data["warnings"] + data["errors"]
    )
    assert len(result.stdout) < 200_000
    text = run_limited(tmp_path, command, "flood.ota")
    assert f"... and {count - 1000} more sub-elements not listed ({count} in all)" in text.stdout
    assert len(text.stdout) < 200_000


def test_combine_of_one_file_given_many_times_stays_bounded(tmp_path: Path) -> None:
    # 1500 separate 16-byte segments: each copy meets the copy before it in 1500 places
    # (the merge compares an input with the bytes it would replace, not every pair).
    lines = [record(0, 32 * i, bytes([i & 0xFF]) * 16) for i in range(1500)]
    (tmp_path / "a.hex").write_text("\n".join([*lines, ":00000001FF"]) + "\n")
    copies = ["a.hex"] * 12
    result = run_limited(tmp_path, "combine", *copies, "-o", "out.hex", "--json")
    assert result.returncode == 0, result.stderr[-500:]
    data = json.loads(result.stdout)
    overlaps = data["overlaps"]
    assert overlaps["regions_total"] == 11 * 1500
    assert len(overlaps["regions"]) == 1000
    assert overlaps["overlapping_bytes"] == overlaps["identical_bytes"] == 1500 * 16
    assert (data["merged_ranges_total"], len(data["merged_ranges"])) == (1500, 1000)
    assert (data["gaps_total"], len(data["gaps"])) == (1499, 1000)
    assert all(len(i["ranges"]) <= 100 and i["ranges_total"] == 1500 for i in data["inputs"])
    assert len(result.stdout) < 1_000_000
    assert (tmp_path / "out.hex").read_text() == (tmp_path / "a.hex").read_text()


# --- the streaming API itself ----------------------------------------------------------


def test_parse_file_reads_a_file_object_without_closing_it(tmp_path: Path) -> None:
    header = OtaHeader.create(manufacturer_code=1, image_type=2, file_version=3)
    plan = plan_image(
        header, [(0x0000, FillSource(100_000, 0xAB)), (0xF000, FillSource(3, 0))], integrity=True
    )
    out = io.BytesIO()
    built = write_image(plan, out, backend=aes.get())
    data = out.getvalue()
    f = io.BytesIO(data + b"tail")
    parsed = parse_file(f, len(data) + 4, backend=aes.get())
    assert not f.closed
    assert (
        parsed.elements
        == built.elements
        == (
            ElementRef(0x0000, 100_000, 56),
            ElementRef(0xF000, 3, 100_062),
            ElementRef(0x0003, 16, 100_071),
        )
    )
    assert parsed.integrity == built.integrity
    assert parsed.integrity.variant is IntegrityVariant.STANDARD
    assert parsed.trailing_bytes == 4
    assert built.sha256 == parse_image(data).sha256
    assert built.size == len(data) == plan.total_size


def test_write_image_streams_a_fill_source_in_chunks(tmp_path: Path) -> None:
    header = OtaHeader.create(manufacturer_code=1, image_type=2, file_version=3)
    chunks = list(FillSource((3 << 20) + 5, 0x11).chunks())
    assert [len(c) for c in chunks] == [1 << 20] * 3 + [5]
    plan = plan_image(header, [(0x0000, FillSource(5, 0x11))], align=64)
    out = io.BytesIO()
    built = write_image(plan, out, backend=aes.get())
    # 56-byte header, a 6-byte padding tag header and 60 bytes of fill, a 6-byte tag header: data at 128
    assert [(e.tag, e.offset, e.length) for e in built.elements] == [(0xFFFF, 56, 60), (0x0000, 122, 5)]
    assert out.getvalue()[128:] == b"\x11" * 5
