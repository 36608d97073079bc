"""Folders and globs: one walker that ends, skips what is not an OTA file, and streams.

Issue 18: ``verify bin/`` of a project keeping ``app.bin`` payloads beside its
``.zigbee`` files exited 1 with hundreds of "invalid" files; ``verify 'fw/**/*.ota'``
over ``fw/a -> .`` never ended; a folder 1,100 levels deep was exit 70; ``caf\\xe9.ota``
broke the Action; 100,000 files held every result in memory.  Each case runs the CLI
(or the Action) as a subprocess bounded in time and memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ota_action.commands.batch import expand
from ota_action.edges.walk import Limits, walk_folder, walk_glob
from ota_action.formats.zigbee.elements import SubElement
from ota_action.formats.zigbee.header import OtaHeader
from ota_action.formats.zigbee.image import build_image
from tests.subproc import action, ota
from tests.test_action import parse_file_commands

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt", reason="POSIX links and names")


def image(version: int = 1) -> bytes:
    header = OtaHeader.create(manufacturer_code=0x1234, image_type=2, file_version=version)
    return build_image(header, [SubElement(0, bytes(range(64)))], integrity=True)


def put(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def jsonl(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


# --- what is not an OTA file -------------------------------------------------------------


def test_a_folder_walk_skips_payloads_and_counts_them(tmp_path: Path) -> None:
    put(tmp_path / "bin" / "lamp.zigbee", image(1))
    put(tmp_path / "bin" / "app.bin", b"\x00\x20\x00\x20" + bytes(500))  # a Cortex-M vector table
    put(tmp_path / "bin" / "boot.bin", b"")
    put(tmp_path / "bin" / "sub" / "plug.zigbee", image(2))
    result = ota("verify", "bin", cwd=tmp_path)
    assert result.code == 0, result.text
    assert result.out.splitlines() == [
        "skipped  bin/app.bin: not an OTA file",
        "skipped  bin/boot.bin: not an OTA file",
        result.out.splitlines()[2],
        result.out.splitlines()[3],
        "Result: valid (4 files, 2 valid, 0 invalid, 2 skipped: not an OTA file)",
    ]
    assert result.out.splitlines()[2].startswith("valid    0x1234 0x0002 0x00000001")
    objects = jsonl(ota("verify", "bin", "--json", cwd=tmp_path).out)
    assert [(o["file"], o.get("skipped"), o["ok"]) for o in objects] == [
        ("bin/app.bin", "not an OTA file", True),
        ("bin/boot.bin", "not an OTA file", True),
        ("bin/lamp.zigbee", None, True),
        ("bin/sub/plug.zigbee", None, True),
    ]
    globbed = ota("inspect", "bin/**/*.bin", cwd=tmp_path)
    assert globbed.code == 0, globbed.text
    assert (
        globbed.out.splitlines()[-1]
        == "Result: valid (2 files, 0 valid, 0 invalid, 2 skipped: not an OTA file)"
    )


def test_a_file_named_explicitly_that_is_not_ota_stays_an_error(tmp_path: Path) -> None:
    put(tmp_path / "app.bin", b"\x00\x20\x00\x20" + bytes(500))
    put(tmp_path / "lamp.zigbee", image())
    alone = ota("verify", "app.bin", cwd=tmp_path)
    assert alone.code == 1
    assert "not a Zigbee OTA file: magic number 0x20002000" in alone.text
    both = ota("verify", "lamp.zigbee", "app.bin", cwd=tmp_path)
    assert both.code == 1
    assert both.out.splitlines()[-1] == "Result: invalid (2 files, 1 valid, 1 invalid)"


def test_the_action_outputs_count_skipped_files(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    put(workspace / "bin" / "lamp.zigbee", image())
    put(workspace / "bin" / "app.bin", bytes(300))
    ran, outputs, summary = action(
        {"command": "verify", "image": "bin"}, workspace=workspace, runner=tmp_path / "r"
    )
    assert ran.code == 0, ran.text
    values = parse_file_commands(outputs)
    assert {k: values[k] for k in ("files", "valid", "invalid", "unusable", "skipped")} == {
        "files": "2",
        "valid": "1",
        "invalid": "0",
        "unusable": "0",
        "skipped": "1",
    }
    assert "| skipped | - | - | - | - | - | bin/app.bin | not an OTA file |" in summary
    assert json.loads(values["summary-json"])["skipped"] == 1


# --- links, loops and depth --------------------------------------------------------------


def test_a_glob_over_links_to_held_folders_ends(tmp_path: Path) -> None:
    """The issue's case: ``mkdir fw; ln -s . fw/a; ln -s . fw/b; touch fw/x.ota``."""
    (tmp_path / "fw").mkdir()
    os.symlink(".", tmp_path / "fw" / "a")
    os.symlink(".", tmp_path / "fw" / "b")
    (tmp_path / "fw" / "x.ota").touch()
    result = ota("verify", "fw/**/*.ota", cwd=tmp_path, timeout=60)
    assert result.code == 0, result.text
    assert result.out == (
        "skipped  fw/x.ota: not an OTA file\n"
        "Result: valid (1 file, 0 valid, 0 invalid, 1 skipped: not an OTA file)\n"
    )
    put(tmp_path / "fw" / "y.ota", image())
    result = ota("verify", "fw/**/**/*.ota", "fw", cwd=tmp_path, timeout=60)
    assert result.code == 0, result.text
    lines = result.out.splitlines()
    assert lines[0] == "skipped  fw/x.ota: not an OTA file"
    assert lines[1].endswith(" fw/y.ota")
    assert lines[2:] == ["Result: valid (2 files, 1 valid, 0 invalid, 1 skipped: not an OTA file)"]


def test_a_forty_deep_chain_of_links_with_six_double_stars_ends(tmp_path: Path) -> None:
    level = tmp_path / "c"
    level.mkdir()
    for depth in range(40):
        nxt = tmp_path / f"d{depth}"
        nxt.mkdir()
        os.symlink(nxt, level / "next")  # each folder links to the next, which links back
        os.symlink(tmp_path / "c", nxt / "home")
        os.symlink("..", nxt / "up")
        level = nxt
    put(level / "end.ota", image())
    result = ota("verify", "c/**/**/**/**/**/**/*.ota", cwd=tmp_path, timeout=60)
    assert result.code == 0, result.text
    lines = result.out.splitlines()
    assert lines[-1] == "Result: valid (1 file, 1 valid, 0 invalid)"
    assert lines[0].endswith("/end.ota")
    assert lines[0].split()[-1].count("next") == 40


def test_a_folder_eleven_hundred_levels_deep_is_walked(tmp_path: Path) -> None:
    deep = tmp_path / "deep"
    deep.mkdir()
    fd = os.open(deep, os.O_RDONLY)
    try:
        for _ in range(1100):  # by descriptor: the path passes PATH_MAX for a shell, not here
            os.mkdir("d", dir_fd=fd)
            nxt = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nxt
        with open(os.open("x.ota", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "wb") as handle:
            handle.write(image())
    finally:
        os.close(fd)
    try:
        for args in (["verify", "deep"], ["inspect", "deep/**/*.ota"]):
            result = ota(*args, cwd=tmp_path, timeout=120)
            assert result.code == 0, result.text[-500:]
            assert result.out.splitlines()[-1].startswith("Result: valid (1 file, 1 valid, 0 invalid")
            assert "Traceback" not in result.text
    finally:
        _remove_deep(tmp_path, deep)


def _remove_deep(tmp_path: Path, deep: Path) -> None:
    """Take the chain apart from the top (``shutil.rmtree``, and so pytest, recurses)."""
    top = deep
    for step in range(1200):
        child = top / "d"
        if not child.is_dir():
            break
        moved = tmp_path / f"t{step}"
        child.rename(moved)
        for leftover in top.iterdir():
            leftover.unlink()
        top.rmdir()
        top = moved
    for leftover in top.iterdir():
        leftover.unlink()
    top.rmdir()


def test_walks_are_bounded_by_entries_and_depth(tmp_path: Path) -> None:
    for i in range(30):
        put(tmp_path / "many" / f"{i:02}.ota", image())
    put(tmp_path / "many" / "a" / "b" / "c" / "d" / "x.ota", image())
    keep = lambda name: name.endswith(".ota")  # noqa: E731
    found = list(walk_folder(tmp_path / "many", keep=keep, field="image", limits=Limits(entries=10)))
    assert found[-1].problem is not None
    assert found[-1].problem.message == "holds more than 10 entries; name a smaller folder or a narrower glob"
    deep = list(walk_glob(f"{tmp_path}/many/**/*.ota", keep=keep, field="image", limits=Limits(depth=3)))
    assert [f.path.name for f in deep if f.problem is None] == [f"{i:02}.ota" for i in range(30)]
    assert deep[-1].problem is not None
    assert deep[-1].problem.message == "is more than 3 folders deep; the walk stops there"


def test_a_glob_of_the_whole_machine_ends_in_the_action(tmp_path: Path) -> None:
    """``/**/*.ota`` in the Action walks only the workspace and the folders on its way."""
    workspace = tmp_path / "ws"
    put(workspace / "fw" / "a.ota", image())
    ran, outputs, _ = action(
        {"command": "verify", "image": "/**/*.ota"}, workspace=workspace, runner=tmp_path / "r"
    )
    assert ran.code == 0, ran.text
    values = parse_file_commands(outputs)
    assert (values["files"], values["valid"]) == ("1", "1")


def test_a_link_out_of_the_workspace_in_a_walked_folder_is_named(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    put(workspace / "fw" / "a.ota", image())
    put(tmp_path / "outside" / "b.ota", image())
    os.symlink(tmp_path / "outside", workspace / "fw" / "out")
    ran, outputs, _ = action({"command": "verify", "image": "fw"}, workspace=workspace, runner=tmp_path / "r")
    assert ran.code == 2, ran.text
    assert "fw/out" in ran.text
    assert "outside the workspace" in ran.text
    assert "Traceback" not in ran.text
    assert parse_file_commands(outputs)["unusable"] == "1"


def test_expand_lists_each_folder_once_and_links_to_other_folders(tmp_path: Path) -> None:
    a = put(tmp_path / "fw" / "real" / "a.ota", image())
    os.symlink(tmp_path / "fw" / "real", tmp_path / "fw" / "alias")  # the same folder again
    b = put(tmp_path / "elsewhere" / "b.ota", image())
    os.symlink(tmp_path / "elsewhere", tmp_path / "fw" / "other")  # a folder not held yet
    # Name order; the real folder is entered as itself, never through its alias.
    assert [t.path for t in expand([tmp_path / "fw"])] == [tmp_path / "fw" / "other" / "b.ota", a]
    assert b.exists()


# --- names that are not UTF-8 -----------------------------------------------------------


def test_names_that_are_not_utf8_work_and_are_shown_escaped(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path / "fw")
    os.mkdir(folder)
    with open(folder + b"/caf\xe9.ota", "wb") as handle:
        handle.write(image())
    for args in (
        ["verify", "fw"],
        ["inspect", "fw"],
        ["verify", b"fw/caf\xe9.ota"],
        ["inspect", b"fw/caf\xe9.ota"],
    ):
        result = ota(*args, cwd=tmp_path)
        assert result.code == 0, result.text
        assert "fw/caf\\xe9.ota" in result.out
        assert "Traceback" not in result.text
    objects = jsonl(ota("verify", "fw", "--json", cwd=tmp_path).out)
    assert os.fsencode(str(objects[0]["file"])) == b"fw/caf\xe9.ota"  # the name round-trips
    workspace = tmp_path
    for command in ("verify", "inspect"):
        ran, outputs, summary = action(
            {"command": command, "image": "fw"}, workspace=workspace, runner=tmp_path / "r"
        )
        assert ran.code == 0, ran.text
        assert "caf\\xe9.ota" in summary
        assert parse_file_commands(outputs)["files"] == "1"


# --- memory -------------------------------------------------------------------------------

_PEAK = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=600)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _peak_kib(cwd: Path, *args: str) -> int:
    """Peak resident memory of one ``ota-action`` run, in KiB (measured by a parent of its own)."""
    out = subprocess.run(
        [sys.executable, "-c", _PEAK, sys.executable, "-m", "ota_action", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    return int(out.stdout)


def test_memory_stays_flat_with_the_number_of_files(tmp_path: Path) -> None:
    data = image()
    for d in range(30):
        folder = tmp_path / "many" / f"{d:02}"
        folder.mkdir(parents=True)
        for i in range(1000):
            (folder / f"{i:04}.ota").write_bytes(data)
    few = _peak_kib(tmp_path, "verify", "many/00", "--json")
    many = _peak_kib(tmp_path, "verify", "many", "--json")
    # Holding every result took 6.4 KiB a file (190 MiB more for 30,000); the names kept
    # to list each file once take about 0.12 KiB.
    assert many - few < 20 * 1024, (few, many)
    bounded = ota("verify", "many", "--json", cwd=tmp_path, memory=300 << 20, timeout=600)
    assert bounded.code == 0, bounded.err[-300:]
    assert len(bounded.out.splitlines()) == 30000
