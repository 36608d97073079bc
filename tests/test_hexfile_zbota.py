"""HEX in, OTA out: ``zbota --tag 0x0000:app.hex`` uses the binary image the .hex describes."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from intelhex import IntelHex

from tests.conftest import run_cli

BASE = ["-m", "0x1234", "-i", "0x0001", "-v", "1.0.0.1"]


def _app_hex(path: Path) -> Path:
    """Two blocks with a 0x10-byte hole, above 64 KiB so a type 04 record is involved."""
    ih = IntelHex()
    ih.frombytes(bytes(range(1, 0x21)), 0x08000000)
    ih.frombytes(b"\xde\xad\xbe\xef", 0x08000030)
    ih.start_addr = {"EIP": 0x08000001}
    ih.write_hex_file(str(path))
    return path


def _upgrade_image(ota: bytes) -> bytes:
    header_length = struct.unpack_from("<H", ota, 6)[0]
    tag, length = struct.unpack_from("<HI", ota, header_length)
    assert tag == 0x0000
    return ota[header_length + 6 : header_length + 6 + length]


def test_hex_tag_becomes_its_binary_with_gaps_filled(tmp_path: Path) -> None:
    app = _app_hex(tmp_path / "app.hex")
    out = tmp_path / "fw.ota"
    result = run_cli("zbota", *BASE, "-o", out, "-t", f"0x0000:{app}", "--fill", "0x00", "--json")
    assert (result.code, result.err) == (0, "")
    expected = bytes(range(1, 0x21)) + b"\x00" * 0x10 + b"\xde\xad\xbe\xef"
    assert _upgrade_image(out.read_bytes()) == expected
    summary = json.loads(result.out)
    [element] = summary["sub_elements"]
    assert element["address_range"] == "0x08000000-0x08000033"
    assert element["length"] == 0x34
    assert element["source"] == str(app)


def test_hex_tag_default_fill_and_text_summary(tmp_path: Path) -> None:
    app = _app_hex(tmp_path / "app.hex")
    out = tmp_path / "fw.ota"
    result = run_cli("zbota", *BASE, "-o", out, "-t", f"0x0000:{app}")
    assert result.code == 0
    assert _upgrade_image(out.read_bytes())[0x20:0x30] == b"\xff" * 0x10
    assert "      Firmware address range: 0x08000000-0x08000033" in result.out.splitlines()


def test_malformed_hex_tag_names_option_file_and_line(tmp_path: Path) -> None:
    app = tmp_path / "app.hex"
    app.write_text(":0100000001FE\n:0100010002FF\n:00000001FF\n")
    out = tmp_path / "fw.ota"
    result = run_cli("zbota", *BASE, "-o", out, "-t", f"0x0000:{app}")
    assert result.code == 2
    assert result.err == (
        f"ota-action zbota: error: --tag '{app}': line 2: bad checksum 0xFF (the record needs 0xFC)\n"
    )
    assert not out.exists()
