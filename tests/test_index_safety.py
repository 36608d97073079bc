"""Issue 18 around ``index`` and outputs: nothing lost, nothing hung, nothing written raw.

Each case runs the CLI (a subprocess where the case is about processes or hostile
files, with a timeout) and asserts the exit status, the message and what is (not) on
disk.  Oracles: the bytes on disk before and after, Python's strict reading of the JSON
written, and the count of entries that 20 real parallel processes leave.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ota_action.formats.zigbee.elements import SubElement
from ota_action.formats.zigbee.header import OtaHeader, decode_header
from ota_action.formats.zigbee.image import build_image
from ota_action.results.fleet import SUMMARY_LISTED, IndexResult
from tests.conftest import ROOT, run_cli

URL = "https://example.com/ota"


def _ota(path: Path, *, image_type: int = 0x42, version: int = 5, mfr: int = 0x1234) -> bytes:
    header = OtaHeader.create(manufacturer_code=mfr, image_type=image_type, file_version=version)
    data = build_image(header, [SubElement(0x0000, bytes(range(256)) * 4)], integrity=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def _refused(code: int, err: str, *names: str) -> None:
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert "internal error" not in err
    for name in names:
        assert name in err, err


def _cli(*args: str | Path, cwd: Path | None = None, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "ota_action", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


# --- no output over one of its own inputs -----------------------------------------------


def test_index_never_writes_over_a_file_it_indexes(tmp_path: Path) -> None:
    data = _ota(tmp_path / "app.ota")
    result = run_cli("index", tmp_path / "app.ota", "-o", tmp_path / "app.ota")
    _refused(result.code, result.err, "-o", "same file as the input", "app.ota")
    assert (tmp_path / "app.ota").read_bytes() == data
    # Through a folder and a hard link too: the device and inode decide, not the spelling.
    os.link(tmp_path / "app.ota", tmp_path / "linked.ota")
    result = run_cli("index", tmp_path, "-o", tmp_path / "linked.ota")
    _refused(result.code, result.err, "same file as the input")
    assert (tmp_path / "linked.ota").read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.ota", "linked.ota"]


def test_every_writing_command_refuses_its_own_input(tmp_path: Path) -> None:
    hex_text = ":0400000001020304F2\n:00000001FF\n"
    (tmp_path / "a.hex").write_text(hex_text)
    (tmp_path / "b.hex").write_text(":0400100005060708CE\n:00000001FF\n")
    result = run_cli("combine", tmp_path / "a.hex", tmp_path / "b.hex", "-o", tmp_path / "a.hex")
    _refused(result.code, result.err, "same file as the input")
    assert (tmp_path / "a.hex").read_text() == hex_text
    payload = b"\x01" * 100
    (tmp_path / "app.bin").write_bytes(payload)
    zbota = ("zbota", "-m", "0x1234", "-i", "0x42", "-v", "1")
    result = run_cli(*zbota, "-t", f"0x0000:{tmp_path / 'app.bin'}", "-o", tmp_path / "app.bin")
    _refused(result.code, result.err, "same file as the input")
    assert (tmp_path / "app.bin").read_bytes() == payload
    (tmp_path / "xbfs.bin").write_bytes(b"\0" * 64)
    result = run_cli(
        "xbee-fs",
        tmp_path / "xbfs.bin",
        "-v",
        "2014",
        "--key-file",
        tmp_path / "xbfs.bin",
        "-o",
        tmp_path / "xbfs.bin",
    )
    _refused(result.code, result.err, "same file as the input")
    assert (tmp_path / "xbfs.bin").read_bytes() == b"\0" * 64


def test_extract_never_writes_over_the_file_it_reads(tmp_path: Path) -> None:
    data = _ota(tmp_path / "out" / "ota.json")  # an OTA file named like extract's manifest
    result = run_cli("extract", tmp_path / "out" / "ota.json", "-d", tmp_path / "out", "--force")
    _refused(result.code, result.err, "same file as the input")
    assert (tmp_path / "out" / "ota.json").read_bytes() == data
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ota.json"]


def test_rewrap_in_place_stays_its_documented_job(tmp_path: Path) -> None:
    _ota(tmp_path / "fw.ota")
    result = run_cli("rewrap", tmp_path / "fw.ota", "--version", "6", "-o", tmp_path / "fw.ota")
    assert result.code == 0, result.err
    assert decode_header((tmp_path / "fw.ota").read_bytes()).file_version == 6


def test_keygen_outputs_that_name_one_file_are_refused(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    result = run_cli(
        "keygen", "--private-out", tmp_path / "k.pem", "--public-out", tmp_path / "d" / ".." / "k.pem"
    )
    _refused(result.code, result.err, "--public-out", "same file")
    assert not (tmp_path / "k.pem").exists()


# --- parallel merges keep every entry ------------------------------------------------------


def test_twenty_parallel_merges_keep_twenty_entries(tmp_path: Path) -> None:
    for i in range(20):
        _ota(tmp_path / "fw" / f"f{i:02d}.ota", image_type=0x100 + i)
    (tmp_path / "index.json").write_text("[]\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ota_action",
                "index",
                f"fw/f{i:02d}.ota",
                "--url-base",
                URL,
                "--merge",
                "index.json",
                "-o",
                "index.json",
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        for i in range(20)
    ]
    codes = []
    for proc in procs:
        _out, err = proc.communicate(timeout=600)
        codes.append((proc.returncode, err.decode()))
    assert all(code == 0 for code, _ in codes), codes
    entries = json.loads((tmp_path / "index.json").read_text())
    assert sorted(e["imageType"] for e in entries) == [0x100 + i for i in range(20)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fw", "index.json"]  # no lock file, no temporary


def test_merge_into_a_missing_index_that_is_the_output_creates_it(tmp_path: Path) -> None:
    _ota(tmp_path / "fw.ota")
    result = run_cli("index", tmp_path / "fw.ota", "--merge", tmp_path / "i.json", "-o", tmp_path / "i.json")
    assert result.code == 0, result.err
    assert [e["fileName"] for e in json.loads((tmp_path / "i.json").read_text())] == ["fw.ota"]
    result = run_cli(
        "index", tmp_path / "fw.ota", "--merge", tmp_path / "nope.json", "-o", tmp_path / "o.json"
    )
    _refused(result.code, result.err, "--merge", "does not exist")


# --- strict JSON in and out ----------------------------------------------------------------

GOOD = {
    "fileName": "old.ota",
    "fileVersion": 1,
    "fileSize": 10,
    "url": "https://example.com/old.ota",
    "imageType": 1,
    "manufacturerCode": 1,
    "sha512": "0" * 128,
}


def _with(**changes: object) -> str:
    return json.dumps([{**GOOD, **changes}])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[" + json.dumps(GOOD)[:-1] + ', "x": NaN}]', "NaN is not JSON"),
        ("null", "neither a z2m index"),
        (_with(fileVersion="5"), 'entry 0 ("old.ota"): \'fileVersion\' is "5", expected an integer'),
        (_with(fileVersion=5.0), "'fileVersion' is 5.0"),
        (_with(fileVersion=True), "'fileVersion' is true"),
        ('[{"fileVersion": 1e400}]', "1e400 is out of range"),
        (_with(fileVersion=2**40), "expected an integer from 0 to 0xFFFFFFFF"),
        (_with(modelId=5), "'modelId' is 5, expected a string"),
        (_with(manufacturerName="_TZ3000"), "expected a list of strings"),
        (_with(fileName="\ud800"), "lone surrogate"),
        ("[" * 100_000 + "]" * 100_000, "nests deeper than"),
        ("[" + "1" * 5000 + "]", "not strict JSON"),
        (b"\xff[]".decode("latin-1"), "not UTF-8"),
        ("[1]", "entry 0 of the z2m index is not an object"),
    ],
)
def test_a_merge_index_that_is_not_strictly_an_index_is_refused(
    tmp_path: Path, text: str, problem: str
) -> None:
    _ota(tmp_path / "fw.ota")
    raw = text.encode("latin-1") if text.startswith("\xff") else text.encode("utf-8", "surrogatepass")
    (tmp_path / "index.json").write_bytes(raw)
    result = _cli("index", "fw.ota", "--merge", "index.json", "-o", "index.json", cwd=tmp_path)
    _refused(result.returncode, result.stderr, "--merge", "index.json", problem)
    assert (tmp_path / "index.json").read_bytes() == raw  # not overwritten
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fw.ota", "index.json"]


def test_zigpy_model_names_must_be_a_list(tmp_path: Path) -> None:
    _ota(tmp_path / "fw.ota")
    bad = {"firmwares": [{"file_version": 1, "file_size": 1, "image_type": 1, "manufacturer_id": 1,
                          "checksum": "sha3-256:00", "path": "x.ota", "model_names": 5}]}  # fmt: skip
    (tmp_path / "z.json").write_text(json.dumps(bad))
    result = _cli("index", "fw.ota", "--merge", "z.json", "-o", "z.json", cwd=tmp_path)
    _refused(result.returncode, result.stderr, "--merge", 'entry 0 ("x.ota")', "'model_names' is 5")


def test_the_index_written_is_strict_json_and_keeps_unknown_keys(tmp_path: Path) -> None:
    _ota(tmp_path / "fw.ota")
    extra = {**GOOD, "originalUrl": "https://vendor.example/é", "notes": {"a": [1, 2.5, None]}}
    (tmp_path / "index.json").write_text(json.dumps([extra], ensure_ascii=False), encoding="utf-8")
    result = run_cli("index", tmp_path / "fw.ota", "--url-base", URL, "--merge", tmp_path / "index.json",
                     "-o", tmp_path / "index.json")  # fmt: skip
    assert result.code == 0, result.err
    text = (tmp_path / "index.json").read_text(encoding="utf-8")
    doc = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} written"))
    assert doc[0] == extra
    assert text == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"  # the layout is json.dumps'


# --- option values an index never carries ------------------------------------------------------


@pytest.mark.parametrize("char", ["\x7f", "\x85", "\x9b", "\u202e", "\u2066", "\n"])
@pytest.mark.parametrize("option", ["--url-base", "--model-id", "--manufacturer-name"])
def test_control_and_bidi_characters_are_refused(tmp_path: Path, option: str, char: str) -> None:
    _ota(tmp_path / "fw.ota")
    value = (URL + "/" if option == "--url-base" else "LAMP") + char + "x"
    result = run_cli("index", tmp_path / "fw.ota", option, value, "-o", tmp_path / "i.json")
    _refused(result.code, result.err, option, "control characters")
    assert not (tmp_path / "i.json").exists()


@pytest.mark.skipif(os.name == "nt", reason="a backslash is a separator on Windows")
def test_a_backslash_in_a_file_name_gives_a_correct_local_index(tmp_path: Path) -> None:
    data = _ota(tmp_path / "fw" / "a\\b.ota")
    result = run_cli("index", tmp_path / "fw", "-o", tmp_path / "i.json")
    assert result.code == 0, result.err
    (entry,) = json.loads((tmp_path / "i.json").read_text())
    assert entry["url"] == entry["path"] == "fw/a\\b.ota"
    assert (tmp_path / entry["path"]).read_bytes() == data  # the path names the file


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="needs a file system that takes any bytes")
def test_a_name_that_is_not_utf8_is_percent_encoded_or_refused(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path / "fw")
    os.mkdir(folder)
    _ota(Path(os.fsdecode(folder + b"/caf\xe9.ota")))
    result = _cli("index", "fw", "--url-base", URL, "-o", "i.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (entry,) = json.loads((tmp_path / "i.json").read_text(encoding="utf-8"))
    assert entry["url"] == URL + "/caf%E9.ota"
    assert entry["fileName"] == "caf\ufffd.ota"
    local = _cli("index", "fw", "-o", "l.json", cwd=tmp_path)
    _refused(local.returncode, local.stderr, "not UTF-8", "--url-base")
    assert not (tmp_path / "l.json").exists()


# --- the Action's summary-json stays under GitHub's 1 MiB ----------------------------------------


def test_summary_json_is_bounded_with_totals(tmp_path: Path) -> None:
    count = 10_000
    entry = {**GOOD, "url": "https://example.com/" + "x" * 200}
    result = IndexResult(
        format="z2m",
        files=tuple(tmp_path / f"board-{i:05d}" / "firmware-with-a-long-name.zigbee" for i in range(count)),
        entries=tuple({**entry, "fileName": f"{i}"} for i in range(count)),
        entries_total=count,
        outfile=tmp_path / "index.json",
    )
    summary = result.outputs(tmp_path)["summary-json"]
    assert len(summary.encode()) < 256 * 1024
    data = json.loads(summary)
    assert (data["files_total"], data["entries_total"], data["listed_all"]) == (count, count, False)
    assert len(data["files"]) == len(data["entries"]) == SUMMARY_LISTED
    assert "index-entry" not in result.outputs(tmp_path)  # the whole list would be over its cap
    small = IndexResult(format="z2m", files=(tmp_path / "a",), entries=(GOOD,), entries_total=1, outfile=None)
    assert json.loads(small.outputs(tmp_path)["summary-json"])["listed_all"] is True


# --- hostile merge indexes: never exit 70 -----------------------------------------------------

_ODD_VALUES: list[object] = [
    None, True, False, 0, -1, 2**32, 2**64, 1.5, -0.0, "", "x" * 300, "\u202e", "\x00", [], {}, [1, "a"],
    {"a": {"b": [None]}}, ["\ufffd"], "NaN", "0x10", 1e308,
]  # fmt: skip


def test_hostile_merge_indexes_are_refused_or_merged_never_a_bug(tmp_path: Path) -> None:
    """Each known key of a z2m and a zigpy entry given each odd value: exit 0 or 2 only,
    and on 2 the index is untouched."""
    import random

    from ota_action.publish.index import IndexFormat
    from ota_action.publish.schema import _FIELDS

    _ota(tmp_path / "fw.ota")
    zigpy_good = {"file_version": 1, "file_size": 1, "image_type": 1, "manufacturer_id": 1,
                  "checksum": "sha3-256:00", "path": "x.ota"}  # fmt: skip
    rng = random.Random(18)
    cases = 0
    for fmt, good in ((IndexFormat.Z2M, GOOD), (IndexFormat.ZIGPY, zigpy_good)):
        for key, _kind, _required in _FIELDS[fmt]:
            for value in rng.sample(_ODD_VALUES, 8):
                entry = {**good, key: value}
                document: object = [entry] if fmt is IndexFormat.Z2M else {"firmwares": [entry]}
                raw = json.dumps(document).encode()
                (tmp_path / "i.json").write_bytes(raw)
                result = run_cli("index", tmp_path / "fw.ota", "--merge", tmp_path / "i.json",
                                 "-o", tmp_path / "i.json", "--format", fmt.value)  # fmt: skip
                cases += 1
                assert result.code in (0, 2), (key, value, result.err)
                assert "internal error" not in result.err
                if result.code == 2:
                    assert (tmp_path / "i.json").read_bytes() == raw
    assert cases > 200


# --- the edges themselves -------------------------------------------------------------------------


def test_a_held_lock_is_an_error_naming_the_option_not_a_hang(tmp_path: Path) -> None:
    from ota_action.edges import locking
    from ota_action.errors import InputError

    index = tmp_path / "index.json"
    with locking.exclusive(index, field="merge"):
        assert locking.lock_path(index).exists()
        with (
            pytest.raises(InputError, match="is locked by another process") as caught,
            locking.exclusive(index, field="merge", wait=0),
        ):
            pass
        assert caught.value.field == "merge"
    assert not locking.lock_path(index).exists()  # removed by its holder
    with locking.exclusive(index, field="merge"):  # and free again
        pass


def test_same_file_falls_back_to_paths_where_the_file_system_gives_no_inode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ota_action.edges import same_file

    (tmp_path / "a.ota").write_bytes(b"a")
    (tmp_path / "b.ota").write_bytes(b"b")
    real_stat = os.stat

    def no_inode(path: str | os.PathLike[str], *, follow_symlinks: bool = True) -> os.stat_result:
        st = real_stat(path, follow_symlinks=follow_symlinks)
        return os.stat_result((st.st_mode, 0, *tuple(st)[2:]))

    monkeypatch.setattr(os, "stat", no_inode)
    assert same_file.same_file(tmp_path / "a.ota", tmp_path / "sub" / ".." / "a.ota") is False  # no sub/
    (tmp_path / "sub").mkdir()
    assert same_file.same_file(tmp_path / "a.ota", tmp_path / "sub" / ".." / "a.ota")
    assert not same_file.same_file(tmp_path / "a.ota", tmp_path / "b.ota")
    assert not same_file.same_file(tmp_path / "a.ota", tmp_path / "missing.ota")
