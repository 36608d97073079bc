"""A path option is a path: real paths are never taken for keys; pasted keys still never leak.

Issue 18: ``verify`` of real files under a workspace such as
``/home/runner/work/Firmware/Firmware`` reported hundreds "unusable ... looks like key
material"; ``-o /home/runner/work/ZigbeeFirmware2024/ZigbeeFirmware2024/build/app.ota``
was refused.  The rule now: a value that names an existing file or folder is never
refused for its spelling, paths found by a walk or a glob are never judged, and only a
value that cannot be a path (a line break, PEM armour, or a key token naming nothing)
is refused - without being echoed, and without anything created.
"""

from __future__ import annotations

import base64
import json
import os
import random
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ota_action.formats.zigbee.elements import SubElement
from ota_action.formats.zigbee.header import OtaHeader
from ota_action.formats.zigbee.image import build_image
from ota_action.safe_text import REDACTED, looks_like_secret, shown
from tests.conftest import corpus_folders
from tests.subproc import action, every_file, ota
from tests.test_action import parse_file_commands

PREFIXES = (
    "home/runner/work/Firmware/Firmware",
    "home/alice/Projects/Firmware/ZigbeeLamp2",
    "home/runner/work/ZigbeeFirmware2024/ZigbeeFirmware2024/build",
    "home/runner/work/ZigbeeLampFirmware/ZigbeeLampFirmware/dist",
)
# File names as real vendors and fleets spell them (Tuya's digest names, a 40-hex
# SHA-1 name, Lumi's dated names, Salus, dresden elektronik, LEDVANCE, Hue).
VENDOR_NAMES = (
    "1678411825b98a1530a8c.zigbee",
    "da39a3ee5e6b4b0d3255bfef95601890afd80709.ota",
    "20220607175331_OTA_lumi.switch.acn029_0.0.0_211551_20220217_08B622.ota",
    "HS1SA_EM-SALUS-0621-V14-190907.ota",
    "1135-0000-201000F8-FLS-PP3_RGBW_16Mhz.zigbee",
    "A60_DIM_T-0x00CD-0x03483712-MF_DIS.OTA",
    "100B-0112-01001500-ConfLightBLE-Lamps-EFR32MG13.zigbee",
    "ZigbeeLampFirmware2024ReleaseCandidate3.ota",
)


def image(version: int = 1) -> bytes:
    header = OtaHeader.create(manufacturer_code=0x1234, image_type=2, file_version=version)
    return build_image(header, [SubElement(0, bytes(range(200)))], integrity=True)


def scalar_hex(seed: int = 3) -> str:
    return f"{random.Random(seed).randrange(1 << 250, 1 << 255):064x}"


def pem(seed: int = 3) -> str:
    key = ec.derive_private_key(random.Random(seed).randrange(1, 1 << 255), ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def base64_line(seed: int = 3) -> str:
    """A one-line key as people paste it: the base64 of a 32-byte scalar."""
    return base64.b64encode(bytes.fromhex(scalar_hex(seed))).decode()


@pytest.mark.parametrize("prefix", PREFIXES)
def test_real_names_at_workspace_prefixes_are_written_and_verified(tmp_path: Path, prefix: str) -> None:
    folder = tmp_path / prefix
    built = ota(
        "zbota",
        "-o",
        folder / "app.ota",
        "-m",
        "0x1234",
        "-i",
        "2",
        "-v",
        "1",
        "-t",
        "0x0000:64",
        cwd=tmp_path,
    )
    assert built.code == 0, built.text
    assert (folder / "app.ota").is_file()
    for name in VENDOR_NAMES:
        (folder / name).write_bytes(image())
    for name in (*VENDOR_NAMES, "app.ota"):
        one = ota("verify", folder / name, cwd=tmp_path)
        assert one.code == 0, one.text
        assert one.out.splitlines()[-1].startswith("Result: valid"), one.out
        assert str(folder / name) in one.out  # shown, not redacted
    every = ota("verify", folder, "--json", cwd=tmp_path)
    assert every.code == 0, every.text
    objects = [json.loads(line) for line in every.out.splitlines()]
    assert len(objects) == len(VENDOR_NAMES) + 1
    assert all(o["valid"] is True for o in objects)
    text = ota("inspect", folder, cwd=tmp_path)
    assert text.code == 0
    assert text.out.splitlines()[-1] == f"Result: valid ({len(VENDOR_NAMES) + 1} files, 9 valid, 0 invalid)"
    assert "unusable" not in text.out
    assert REDACTED not in text.text


def test_a_file_named_like_a_key_that_exists_is_read(tmp_path: Path) -> None:
    """Spelling never refuses a file that exists: only what a message echoes is judged."""
    name = scalar_hex()
    (tmp_path / name).write_bytes(image())
    result = ota("verify", name, cwd=tmp_path)
    assert result.code == 0, result.text
    assert result.out.splitlines()[-1].startswith("Result: valid")
    payload = scalar_hex(seed=5)  # raw firmware named like a key (an OTA file as a tag is refused)
    (tmp_path / payload).write_bytes(bytes(range(256)))
    out = ota(
        "zbota",
        "-o",
        "sub/" + name + ".ota",
        "-m",
        "1",
        "-i",
        "1",
        "-v",
        "1",
        "-t",
        f"0:{payload}",
        cwd=tmp_path,
    )
    assert out.code == 0, out.text  # an existing tag file named like a key, a new output beside it


PASTED = {
    "outfile-scalar": lambda: (["-o", scalar_hex(), "-t", "0:fw.bin"], scalar_hex()),
    "outfile-base64-line": lambda: (["-o", base64_line(), "-t", "0:fw.bin"], base64_line()),
    "outfile-pem": lambda: (["-o", pem(), "-t", "0:fw.bin"], pem().splitlines()[1]),
    "outfile-pem-as-path": lambda: (
        ["-o", pem().replace("\n", "/"), "-t", "0:fw.bin"],
        pem().splitlines()[1],
    ),
    "tag-scalar": lambda: (["-o", "o.ota", "-t", "0:" + scalar_hex()], scalar_hex()),
    "tag-base64-line": lambda: (["-o", "o.ota", "-t", "0:" + base64_line()], base64_line()),
}


@pytest.mark.parametrize("case", sorted(PASTED))
def test_a_key_pasted_as_a_path_is_refused_unechoed_and_creates_nothing(tmp_path: Path, case: str) -> None:
    args, secret = PASTED[case]()
    (tmp_path / "fw.bin").write_bytes(bytes(64))
    before = every_file(tmp_path)
    result = ota("zbota", "-m", "1", "-i", "1", "-v", "1", *args, cwd=tmp_path)
    assert result.code == 2, result.text
    assert "looks like key material" in result.err
    assert secret not in result.text
    assert "Traceback" not in result.text
    assert every_file(tmp_path) == before


@pytest.mark.parametrize("value", [scalar_hex(), base64_line(), "0x" + scalar_hex()])
def test_a_key_given_as_key_file_or_image_is_never_echoed(tmp_path: Path, value: str) -> None:
    (tmp_path / "fs.bin").write_bytes(bytes(4096))
    before = every_file(tmp_path)
    for args in (
        ["xbee-fs", "fs.bin", "-v", "100D", "-o", "fs.fsota", "--key-file", value],
        ["verify", value],
        ["inspect", "app.ota", value],
    ):
        result = ota(*args, cwd=tmp_path)
        assert result.code == 2, (args, result.text)
        assert "looks like key material" in result.text or REDACTED in result.text
        assert value.removeprefix("0x") not in result.text
        assert "Traceback" not in result.text
    assert every_file(tmp_path) == before


def test_action_workspace_named_like_a_project_reads_absolute_inputs(tmp_path: Path) -> None:
    """``image: ${{ github.workspace }}/dist/app.ota`` in a repository named ZigbeeLampFirmware."""
    workspace = tmp_path / "home/runner/work/ZigbeeLampFirmware/ZigbeeLampFirmware"
    workspace.mkdir(parents=True)
    (workspace / "fw.bin").write_bytes(bytes(128))
    zb = {"command": "zbota", "mfg-id": "0x1234", "image-type": "2", "version": "1", "tags": "0:fw.bin"}
    ran, outputs, _ = action(
        {**zb, "outfile": f"{workspace}/dist/app.ota"}, workspace=workspace, runner=tmp_path / "r"
    )
    assert ran.code == 0, ran.text
    for name in VENDOR_NAMES:
        (workspace / "dist" / name).write_bytes(image())
    for command in ("verify", "inspect"):
        ran, outputs, summary = action(
            {"command": command, "image": f"{workspace}/dist/app.ota"},
            workspace=workspace,
            runner=tmp_path / "r",
        )
        assert ran.code == 0, ran.text
        ran, outputs, summary = action(
            {"command": command, "image": f"{workspace}/dist"}, workspace=workspace, runner=tmp_path / "r"
        )
        assert ran.code == 0, ran.text
        values = parse_file_commands(outputs)
        assert (values["files"], values["valid"], values["unusable"]) == (str(len(VENDOR_NAMES) + 1),) * 2 + (
            "0",
        )
        assert REDACTED not in ran.text + summary


@pytest.mark.corpus
@pytest.mark.parametrize("prefix", PREFIXES[:2])
def test_corpus_folders_at_workspace_prefixes_have_nothing_unusable(tmp_path: Path, prefix: str) -> None:
    for name, folder in corpus_folders().items():
        place = tmp_path / prefix / name
        place.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(folder, place)  # the real files, seen under a workspace's path
        result = ota("verify", place, "--json", cwd=tmp_path)
        objects = [json.loads(line) for line in result.out.splitlines()]
        assert objects, result.text
        unusable = [o["file"] for o in objects if any(f["code"] == "input" for f in o["findings"])]
        assert unusable == []
        assert REDACTED not in result.text


@pytest.mark.parametrize(
    "text",
    [
        "/home/runner/work/ZigbeeFirmware2024/ZigbeeFirmware2024/build/app.ota",
        "/home/runner/work/ZigbeeLampFirmware/ZigbeeLampFirmware/dist/app.ota",
        "/home/alice/Projects/Firmware/ZigbeeLamp2/HumiditySensor_4.0.3.zigbee",
        "/home/runner/work/Firmware/Firmware/1678411825b98a1530a8c.zigbee",
    ],
)
def test_workspace_paths_are_echoed(text: str) -> None:
    assert not looks_like_secret(text)
    assert shown(text) == repr(text)


@pytest.mark.corpus
def test_corpus_files_in_a_workspace_named_like_a_project_have_nothing_unusable(tmp_path: Path) -> None:
    """The Action reads only the workspace: the real files are copied into one (a temporary
    folder, never the repository) at the paths a runner gives."""
    workspace = tmp_path / "home/runner/work/ZigbeeLampFirmware/ZigbeeLampFirmware"
    count = 0
    for name, folder in corpus_folders().items():
        for source in folder.iterdir():
            if source.is_file() and source.suffix.lower() != ".md":
                target = workspace / "fw" / name / source.name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(source.read_bytes())
                count += 1
    ran, outputs, summary = action(
        {"command": "verify", "image": f"{workspace}/fw"}, workspace=workspace, runner=tmp_path / "r"
    )
    values = parse_file_commands(outputs)
    assert values["unusable"] == "0", ran.text
    assert int(values["files"]) == count
    assert REDACTED not in ran.text + summary
