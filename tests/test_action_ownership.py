"""What the Action (root in its container) creates in the workspace belongs to the
workspace's owner, so later steps and the next checkout can delete it; what a failed run
created is gone.  Run as the runner runs it: ``entrypoint.py`` in a subprocess."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ota_action.formats.zigbee.elements import SubElement
from ota_action.formats.zigbee.header import OtaHeader
from ota_action.formats.zigbee.image import build_image
from tests.test_action import FakeRunner

OWNER = (4321, 4322)
root_only = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")


def _ota(path: Path) -> None:
    header = OtaHeader.create(manufacturer_code=0x1234, image_type=5, file_version=7, header_string=b"x y")
    elements = [SubElement(0x0000, bytes(64)), SubElement(0xF000, b"t")]
    path.write_bytes(build_image(header, elements, integrity=True))


@root_only
def test_extract_gives_every_folder_and_file_to_the_workspace_owner(tmp_path: Path) -> None:
    fake = FakeRunner(tmp_path)
    _ota(fake.workspace / "app.ota")
    os.chown(fake.workspace, *OWNER)
    run = fake.run({"command": "extract", "image": "app.ota", "directory": "out/parts/x"})
    assert run.code == 0, run.stdout + run.stderr
    made = [*sorted((fake.workspace / "out").rglob("*")), fake.workspace / "out"]
    assert {p.name for p in made} >= {"out", "parts", "x", "ota.json", "00-0x0000.bin", "01-0xF000.bin"}
    for path in made:
        st = path.lstat()
        assert (st.st_uid, st.st_gid) == OWNER, path
    assert re.search(r"action\.chown .*uid=4321", run.log)
    assert (fake.workspace / "app.ota").stat().st_uid == 0  # not created by the run: left alone


@root_only
def test_existing_folders_keep_their_owner(tmp_path: Path) -> None:
    fake = FakeRunner(tmp_path)
    _ota(fake.workspace / "app.ota")
    (fake.workspace / "mine").mkdir()
    os.chown(fake.workspace, *OWNER)
    run = fake.run({"command": "extract", "image": "app.ota", "directory": "mine/x"})
    assert run.code == 0, run.stdout
    assert (fake.workspace / "mine").stat().st_uid == 0
    assert (fake.workspace / "mine" / "x").stat().st_uid == OWNER[0]
    assert (fake.workspace / "mine" / "x" / "ota.json").stat().st_uid == OWNER[0]


def test_failed_extract_leaves_no_folder(tmp_path: Path) -> None:
    fake = FakeRunner(tmp_path)
    (fake.workspace / "app.ota").write_bytes(b"not an OTA file at all" * 10)
    run = fake.run({"command": "extract", "image": "app.ota", "directory": "new/deep"})
    assert run.code in (1, 2), run.stdout
    assert not (fake.workspace / "new").exists()
    assert run.outputs_text == ""
