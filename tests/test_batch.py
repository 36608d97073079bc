"""inspect/verify on many files at once: expansion, order, exit codes, JSON Lines, text, the Action."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ota_action.commands.batch import expand, stream_parallel
from ota_action.formats.zigbee.elements import SubElement
from ota_action.formats.zigbee.header import OtaHeader
from ota_action.formats.zigbee.image import build_image
from ota_action.results.batch import SUMMARY_LIMIT, VerifyBatchResult
from ota_action.results.entries import FileProblem
from tests.conftest import run_cli
from tests.test_action import FakeRunner
from tests.vendor_files import gbl, hue_sbl, ota, telink_ota

SUFFIX_NOTE = "(*.ota, *.zigbee, *.ota.signed, *.fw, *.sbl-ota, *.bin)"


def good(version: int = 1, size: int = 100) -> bytes:
    header = OtaHeader.create(manufacturer_code=0x1234, image_type=2, file_version=version)
    return build_image(header, [SubElement(0, bytes(size))], integrity=True)


def bad() -> bytes:
    data = bytearray(good())
    data[70] ^= 1  # the integrity code no longer matches
    return bytes(data)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_all_valid_exit_0_and_each_json_line_is_the_single_file_object(tmp_path: Path) -> None:
    a = write(tmp_path / "a.ota", good(1))
    b = write(tmp_path / "b.zigbee", good(2))
    result = run_cli("verify", a, b, "--json")
    assert (result.code, result.err) == (0, "")
    assert "\n  " not in result.out  # JSON Lines, not indented objects
    singles = [json.loads(run_cli("verify", p, "--json").out) for p in (a, b)]
    assert lines(result.out) == singles
    assert [d["file"] for d in singles] == [str(a), str(b)]


def test_single_file_output_is_unchanged(tmp_path: Path) -> None:
    a = write(tmp_path / "a.ota", good())
    out = run_cli("verify", a, "--json").out
    assert out.startswith('{\n  "schema_version": 1,\n  "command": "verify",\n')
    assert run_cli("verify", a).out.endswith("Result: valid (2 sub-elements, integrity code matches)\n")


def test_an_invalid_file_makes_exit_1_and_keeps_the_others(tmp_path: Path) -> None:
    a = write(tmp_path / "a.ota", good())
    b = write(tmp_path / "b.ota", bad())
    result = run_cli("verify", a, b)
    assert result.code == 1
    assert result.out == (
        f"valid    0x1234 0x0002 0x00000001        184 bytes  standard         {a}\n"
        f"invalid  0x1234 0x0002 0x00000001        184 bytes  standard         {b}: "
        "the integrity code does not match the file under any known rule\n"
        "Result: invalid (2 files, 1 valid, 1 invalid)\n"
    )
    objects = lines(run_cli("verify", a, b, "--json").out)
    assert [(o["ok"], o["valid"]) for o in objects] == [(True, True), (False, False)]
    # inspect never fails a file it could read: the same batch exits 0.
    inspected = run_cli("inspect", a, b)
    assert inspected.code == 0
    assert inspected.out.splitlines()[-1] == "Result: valid (2 files, 2 valid, 0 invalid, 1 warning)"


def test_unusable_path_exit_2_others_still_reported(tmp_path: Path) -> None:
    a = write(tmp_path / "a.ota", good())
    b = write(tmp_path / "b.ota", bad())
    junk = write(tmp_path / "notes.txt", b"hello, not an OTA file at all" * 3)
    missing = tmp_path / "missing.ota"
    result = run_cli("verify", missing, a, junk, b, "--json")
    assert result.code == 2
    objects = lines(result.out)
    assert [o["file"] for o in objects] == [str(missing), str(a), str(junk), str(b)]
    assert objects[0] == {
        "schema_version": 1,
        "command": "verify",
        "ok": False,
        "file": str(missing),
        "valid": False,
        "warnings": [],
        "errors": ["file does not exist"],
        "findings": [{"level": "error", "code": "input", "message": "file does not exist"}],
    }
    message = "not a Zigbee OTA file: magic number 0x6C6C6568, expected 0x0BEEF11E"
    assert objects[2]["findings"] == [{"level": "error", "code": "format", "message": message}]
    assert (objects[1]["ok"], objects[3]["ok"]) == (True, False)
    text = run_cli("verify", missing, a, junk, b).out.splitlines()
    assert text[0] == f"unusable {missing}: file does not exist"
    assert text[2] == f"invalid  {junk}: {message}"
    assert text[-1] == "Result: invalid (4 files, 1 valid, 2 invalid, 1 unusable)"


def test_folders_are_searched_recursively_by_suffix_sorted(tmp_path: Path) -> None:
    root = tmp_path / "fw"
    names = [
        "b/x.OTA",
        "a.ota.signed",
        "b/a/deep.fw",
        "c.zigbee",
        "d.sbl-ota",
        "e.bin",
        "f.Ota",
    ]
    for name in names:
        write(root / name, good())
    write(root / "readme.txt", b"not read")
    write(root / "image.ota.bak", b"not read")
    found = [t.path.relative_to(root).as_posix() for t in expand([root])]
    # os.walk order: a folder's own files (sorted) before its sub-folders (sorted).
    assert found == ["a.ota.signed", "c.zigbee", "d.sbl-ota", "e.bin", "f.Ota", "b/x.OTA", "b/a/deep.fw"]
    result = run_cli("verify", root)
    assert result.code == 0
    assert result.out.splitlines()[-1] == "Result: valid (7 files, 7 valid, 0 invalid)"


def test_explicit_files_of_any_name_and_input_order(tmp_path: Path) -> None:
    z = write(tmp_path / "z-image.dat", good(3))
    a = write(tmp_path / "a.ota", good(1))
    folder = tmp_path / "more"
    m = write(folder / "m.ota", good(2))
    result = run_cli("verify", z, folder, a, "--json")
    assert result.code == 0
    assert [(o["file"], o["file_version"]) for o in lines(result.out)] == [
        (str(z), 3),
        (str(m), 2),
        (str(a), 1),
    ]


def test_a_file_given_twice_is_read_once(tmp_path: Path) -> None:
    a = write(tmp_path / "a.ota", good())
    assert [t.path for t in expand([a, tmp_path, a])] == [a]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_directory_symlink_loop_is_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "fw"
    a = write(root / "sub" / "a.ota", good())
    os.symlink(root, root / "sub" / "loop")  # fw/sub/loop -> fw
    os.symlink(a, root / "link.ota")  # a link to a file is a file
    assert [t.path for t in expand([root])] == [root / "link.ota", a]
    result = run_cli("verify", root)
    assert result.code == 0
    assert result.out.splitlines()[-1] == "Result: valid (2 files, 2 valid, 0 invalid)"


def test_empty_folder_and_glob_without_match_are_unusable(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    write(empty / "notes.txt", b"x")
    pattern = tmp_path / "nothing-*.ota"
    result = run_cli("verify", empty, pattern)
    assert result.code == 2
    assert result.out == (
        f"unusable {empty}: folder holds no OTA file {SUFFIX_NOTE}\n"
        f"unusable {pattern}: file does not exist (nor does any file match it as a glob)\n"
        "Result: unusable (2 files, 0 valid, 0 invalid, 2 unusable)\n"
    )


def test_globs_are_expanded_sorted(tmp_path: Path) -> None:
    b = write(tmp_path / "b1.ota", good(2))
    a = write(tmp_path / "a1.ota", good(1))
    write(tmp_path / "c1.bin", good(3))
    deep = write(tmp_path / "x" / "y" / "d1.ota", good(4))
    assert [t.path for t in expand([tmp_path / "*1.ota"])] == [a, b]
    assert [t.path for t in expand([tmp_path / "**" / "*.ota"])] == [a, b, deep]


def test_stream_parallel_keeps_input_order() -> None:
    assert list(stream_parallel(lambda p: p.name, [Path(str(i)) for i in range(50)], workers=4)) == [
        str(i) for i in range(50)
    ]


def test_vendor_files_in_a_batch_name_their_layout(tmp_path: Path) -> None:
    write(tmp_path / "1-telink.ota", telink_ota())
    write(tmp_path / "2-hue.sbl-ota", hue_sbl())
    write(tmp_path / "3-gbl.ota", ota([SubElement(0, gbl())]))
    result = run_cli("verify", tmp_path)
    assert result.code == 0
    rows = [line.split()[6] for line in result.out.splitlines()[:-1]]
    assert rows == ["telink-encrypted", "hue-sbl", "standard"]
    assert result.out.splitlines()[-1] == "Result: valid (3 files, 3 valid, 0 invalid, 2 warnings)"


def test_batch_result_outputs_and_markdown(tmp_path: Path) -> None:
    problem = FileProblem(Path("gone.ota"), "input", "file does not exist")
    result = VerifyBatchResult(entries=(problem,) * 3, findings=(problem.finding,) * 3)
    assert result.exit_code == 2
    outputs = result.outputs(tmp_path)
    assert {k: outputs[k] for k in ("files", "valid", "invalid", "unusable")} == {
        "files": "3",
        "valid": "0",
        "invalid": "0",
        "unusable": "3",
    }
    summary = json.loads(outputs["summary-json"])
    assert summary["results"][0] == {
        "file": "gone.ota",
        "verdict": "unusable",
        "manufacturer_code": None,
        "image_type": None,
        "file_version": None,
        "size": None,
        "layout": None,
        "problem": "file does not exist",
    }
    md = result.markdown()
    assert md.startswith("### ❌ ota-action verify (3 files)\n\n| Result | Manufacturer |")
    assert "| unusable | - | - | - | - | - | gone.ota | file does not exist |" in md
    many = VerifyBatchResult(entries=(problem,) * 20000, findings=(problem.finding,) * 20000)
    capped = many.outputs(tmp_path)["summary-json"]
    assert len(capped.encode()) <= SUMMARY_LIMIT
    data = json.loads(capped)
    assert (data["truncated"], data["files"]) == (True, 20000)
    assert 0 < len(data["results"]) < 20000


def test_action_image_input_takes_lines_and_globs(tmp_path: Path) -> None:
    fake = FakeRunner(tmp_path)
    write(fake.workspace / "fw" / "a.ota", good(1))
    write(fake.workspace / "fw" / "b.ota", good(2))
    write(fake.workspace / "other" / "c.zigbee", good(3))
    run = fake.run({"command": "verify", "image": "fw/*.ota\nother\n"})
    assert run.code == 0, run.stdout + run.stderr
    assert {k: run.outputs[k] for k in ("files", "valid", "invalid", "unusable")} == {
        "files": "3",
        "valid": "3",
        "invalid": "0",
        "unusable": "0",
    }
    summary = json.loads(run.outputs["summary-json"])
    assert [r["file"] for r in summary["results"]] == ["fw/a.ota", "fw/b.ota", "other/c.zigbee"]
    assert "| valid | 0x1234 | 0x0002 | 0x00000002 | 184 | standard | fw/b.ota |  |" in run.summary
    missing = fake.run({"command": "verify", "image": "fw/*.ota\nnone/*.ota"})
    assert missing.code == 2
    assert "unusable none/*.ota: file does not exist (nor does any file match it as a glob)" in missing.stdout
