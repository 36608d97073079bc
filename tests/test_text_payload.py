"""``verify``: an OTA file whose upgrade image is Intel HEX or S-record text, or an ELF, is invalid.

The files are made without ota-action: the text by ``srec_cat`` (Intel HEX, S-record) and the
ELF by ``objcopy`` from one binary, each packed as the upgrade image of an OTA file by
``struct`` (``tests/test_telink.py``'s writer, the specification's field list).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import need_tool, run_cli
from tests.test_telink import ota_file

BINARY = bytes((i * 31 + 7) & 0xFF for i in range(3000))


def _made(tmp_path: Path, kind: str) -> bytes:
    source = tmp_path / "app.bin"
    source.write_bytes(BINARY)
    out = tmp_path / f"app.{kind}"
    if kind == "elf":
        tool = [need_tool("objcopy"), "-I", "binary", "-O", "elf32-little", str(source), str(out)]
    else:
        form = "-intel" if kind == "hex" else "-motorola"
        tool = [need_tool("srec_cat"), str(source), "-binary", "-offset", "0x08000000", "-o", str(out), form]
    subprocess.run(tool, check=True, timeout=60, capture_output=True)
    return out.read_bytes()


@pytest.mark.parametrize(
    ("kind", "named"), [("hex", "Intel HEX text"), ("s37", "Motorola S-record text"), ("elf", "ELF data")]
)
def test_a_build_file_as_the_upgrade_image_is_invalid_naming_its_format(
    tmp_path: Path, kind: str, named: str
) -> None:
    ota = tmp_path / "embedded.ota"
    ota.write_bytes(ota_file(_made(tmp_path, kind), version=1))
    result = run_cli("verify", ota, "--json")
    assert result.code == 1, result.err
    report = json.loads(result.out)
    (finding,) = [f for f in report["findings"] if f["code"] == "payload"]
    assert finding["level"] == "error"
    assert named in finding["message"]
    assert report["payload"]["format"] == "firmware-file"
    assert report["payload"]["details"]["file_format"] == named.rsplit(" ", 1)[0]
    shown = run_cli("inspect", ota)
    assert shown.code == 0  # inspect shows it, as a warning
    assert named in " ".join(shown.out.split())


def test_the_binary_image_itself_and_look_alikes_stay_valid(tmp_path: Path) -> None:
    for payload in (
        BINARY,
        b":" + BINARY,  # a colon, but no record line
        b"S0" + BINARY,  # an S, but no record line
        b"\x7fELF\x00" + BINARY,  # the ELF magic without a class byte
    ):
        ota = tmp_path / "plain.ota"
        ota.write_bytes(ota_file(payload, version=1))
        result = run_cli("verify", ota, "--json")
        assert result.code == 0, (payload[:8], result.out)
