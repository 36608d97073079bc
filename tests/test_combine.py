"""``ota-action combine`` end to end: every rule, exact messages, and srec_cat / intelhex as oracles."""

from __future__ import annotations

import hashlib
import io
import json
import random
import subprocess
from pathlib import Path

import pytest
from intelhex import IntelHex

from tests.conftest import need_tool, run_cli

EOF = ":00000001FF"


def record(kind: int, offset: int, payload: bytes = b"") -> str:
    body = bytes([len(payload), offset >> 8, offset & 0xFF, kind]) + payload
    return ":" + (body + bytes([(256 - sum(body) % 256) % 256])).hex().upper()


def write_ih(path: Path, blocks: list[tuple[int, bytes]], start: dict[str, int] | None = None) -> Path:
    """A .hex file written by intelhex (not by the code under test)."""
    ih = IntelHex()
    for address, data in blocks:
        ih.frombytes(data, address)
    ih.start_addr = start
    ih.write_hex_file(str(path))
    return path


def load_ih(path: Path) -> IntelHex:
    ih = IntelHex()
    ih.loadhex(str(path))
    return ih


def memory(ih: IntelHex) -> dict[int, int]:
    return {a: ih[a] for a in ih.addresses()}


def combine(*args: str | Path) -> tuple[int, dict[str, object], str]:
    result = run_cli("combine", *args, "--json")
    return result.code, (json.loads(result.out) if result.out else {}), result.err


@pytest.fixture
def firmware(tmp_path: Path) -> dict[str, Path]:
    """A bootloader, an application (type 05 start) and a config block, all disjoint."""
    rng = random.Random(3)
    return {
        "boot": write_ih(tmp_path / "boot.hex", [(0x0000, rng.randbytes(0x800))]),
        "app": write_ih(tmp_path / "app.hex", [(0x10000, rng.randbytes(0x3000))], {"EIP": 0x10101}),
        "config": write_ih(tmp_path / "config.hex", [(0x1FF000, rng.randbytes(0x100))]),
    }


def test_disjoint_merge_is_the_union_by_intelhex_and_summary_is_exact(
    tmp_path: Path, firmware: dict[str, Path]
) -> None:
    out = tmp_path / "new" / "dir" / "merged.hex"
    code, data, err = combine(firmware["boot"], firmware["app"], firmware["config"], "-o", out)
    assert (code, err) == (0, "")
    union: dict[int, int] = {}
    for path in firmware.values():
        union.update(memory(load_ih(path)))
    merged = load_ih(out)
    assert memory(merged) == union
    assert merged.start_addr == {"EIP": 0x10101}
    text = out.read_bytes()
    assert data["sha256"] == hashlib.sha256(text).hexdigest()
    assert data["size"] == len(text)
    assert data["data_bytes"] == 0x800 + 0x3000 + 0x100
    assert [r["range"] for r in data["merged_ranges"]] == [  # type: ignore[attr-defined]
        "0x00000000-0x000007FF",
        "0x00010000-0x00012FFF",
        "0x001FF000-0x001FF0FF",
    ]
    assert data["gaps"] == [
        {"start": 0x800, "end": 0xFFFF, "size": 0xF800, "range": "0x00000800-0x0000FFFF"},
        {"start": 0x13000, "end": 0x1FEFFF, "size": 0x1EC000, "range": "0x00013000-0x001FEFFF"},
    ]
    inputs = data["inputs"]
    assert [(i["file"], i["bytes"], [r["range"] for r in i["ranges"]]) for i in inputs] == [  # type: ignore[attr-defined]
        (str(firmware["boot"]), 0x800, ["0x00000000-0x000007FF"]),
        (str(firmware["app"]), 0x3000, ["0x00010000-0x00012FFF"]),
        (str(firmware["config"]), 0x100, ["0x001FF000-0x001FF0FF"]),
    ]
    assert data["start_address"] == {
        "record_type": 5,
        "value": 0x10101,
        "text": "EIP 0x00010101 (type 05)",
        "source": str(firmware["app"]),
    }
    assert data["overlaps"] == {
        "policy": "error",
        "overlapping_bytes": 0,
        "identical_bytes": 0,
        "overridden_bytes": 0,
        "regions": [],
        "regions_total": 0,
    }
    lines = text.decode().splitlines()
    assert lines[-2:] == [record(5, 0, bytes.fromhex("00010101")), EOF]
    assert {int(line[1:3], 16) for line in lines if line[7:9] == "00"} == {16}
    assert sum(1 for line in lines if line[7:9] == "04") == 2  # 0x0001 and 0x001F, none for 0x0000


def _srec_dump(srec_cat: str, *paths: Path) -> str:
    argv = [srec_cat]
    for path in paths:
        argv += [str(path), "-intel"]
    result = subprocess.run([*argv, "-o", "-", "-hex_dump"], capture_output=True, text=True, check=True)
    return result.stdout


def test_srec_cat_loads_output_to_exactly_the_union(tmp_path: Path, firmware: dict[str, Path]) -> None:
    srec_cat = need_tool("srec_cat")
    # An identical overlap too: the config repeated inside a fourth file.
    extra = tmp_path / "extra.hex"
    config = load_ih(firmware["config"])
    extra_blocks = [(0x1FF080, bytes(config[a] for a in range(0x1FF080, 0x1FF100))), (0x30000, b"\x5a" * 40)]
    write_ih(extra, extra_blocks)
    out = tmp_path / "merged.hex"
    inputs = [firmware["boot"], firmware["app"], firmware["config"], extra]
    code, data, err = combine(*inputs, "-o", out)
    assert (code, err) == (0, "")
    assert data["overlaps"]["identical_bytes"] == 0x80  # type: ignore[index]
    assert _srec_dump(srec_cat, out) == _srec_dump(srec_cat, *inputs)
    # srec_cat also re-reads every record of ours (checksums, lengths, 04 records).
    check = subprocess.run([srec_cat, str(out), "-intel", "-o", "/dev/null"], capture_output=True, text=True)
    assert (check.returncode, check.stderr) == (0, "")


def _conflicting(tmp_path: Path) -> tuple[Path, Path]:
    """a: 0x0000-0xFFFF of 0xAA; b: 0xFF00-0x100FF of 0xAA except 0xFF00-0xFF0F and 0xFF80-0xFF83."""
    b_data = bytearray(b"\xaa" * 0x200)
    b_data[0x00:0x10] = b"\x55" * 0x10
    b_data[0x80:0x84] = b"\x66" * 4
    a = write_ih(tmp_path / "a.hex", [(0, b"\xaa" * 0x10000)])
    b = write_ih(tmp_path / "b.hex", [(0xFF00, bytes(b_data))])
    return a, b


def test_conflicting_bytes_fail_naming_both_files_and_first_range(tmp_path: Path) -> None:
    a, b = _conflicting(tmp_path)
    out = tmp_path / "out" / "m.hex"
    result = run_cli("combine", a, b, "-o", out)
    assert result.code == 2
    assert result.err == (
        f"ota-action combine: error: --on-overlap: {a} and {b} hold different bytes at "
        "0x0000FF00-0x0000FF0F (20 conflicting bytes in all); "
        "choose keep-first or keep-last, or fix the inputs\n"
    )
    assert not out.exists()
    assert not out.parent.exists()


@pytest.mark.parametrize(("policy", "winner"), [("keep-first", 0x55), ("keep-last", 0xAA)])
def test_keep_first_and_keep_last(tmp_path: Path, policy: str, winner: int) -> None:
    a, b = _conflicting(tmp_path)
    out = tmp_path / "m.hex"
    # b is given first so keep-first keeps b's 0x55 bytes.
    code, data, err = combine(b, a, "-o", out, "--on-overlap", policy)
    assert (code, err) == (0, "")
    merged = load_ih(out)
    assert merged[0xFF00] == winner
    assert merged[0xFF80] == (0x66 if policy == "keep-first" else 0xAA)
    assert merged[0xFF10] == 0xAA
    assert merged[0x100FF] == 0xAA
    assert (merged.minaddr(), merged.maxaddr()) == (0, 0x100FF)
    overlaps = data["overlaps"]
    assert overlaps["policy"] == policy  # type: ignore[index]
    assert overlaps["overridden_bytes"] == 20  # type: ignore[index]
    assert overlaps["overlapping_bytes"] == 0x100  # type: ignore[index]
    assert overlaps["identical_bytes"] == 0x100 - 20  # type: ignore[index]
    [region] = overlaps["regions"]  # type: ignore[index]
    assert region["range"] == "0x0000FF00-0x0000FFFF"
    assert region["first_conflict"]["range"] == "0x0000FF00-0x0000FF0F"
    assert region["kept"] == str(b if policy == "keep-first" else a)
    text = run_cli("combine", b, a, "-o", out, "--on-overlap", policy).out
    assert "Overlaps (" + policy + "): 256 bytes, 236 identical, 20 overridden" in text


def test_identical_overlap_is_not_a_conflict(tmp_path: Path) -> None:
    a = write_ih(tmp_path / "a.hex", [(0x100, bytes(range(64)))])
    b = write_ih(tmp_path / "b.hex", [(0x120, bytes(range(32, 64)) + b"\x01\x02")])
    out = tmp_path / "m.hex"
    code, data, _ = combine(a, b, "-o", out)
    assert code == 0
    assert memory(load_ih(out)) == {0x100 + i: v for i, v in enumerate(bytes(range(64)) + b"\x01\x02")}
    assert data["overlaps"]["identical_bytes"] == 32  # type: ignore[index]
    assert data["overlaps"]["overridden_bytes"] == 0  # type: ignore[index]


def _with_start(path: Path, kind: int, value: int) -> Path:
    lines = [record(0, 0x0000 if "1" in path.stem else 0x1000, b"\x01\x02")]
    lines += [record(kind, 0, value.to_bytes(4, "big")), EOF]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_single_segment_start_record_keeps_type_03(tmp_path: Path) -> None:
    a = _with_start(tmp_path / "s1.hex", 3, 0x12340056)
    b = tmp_path / "plain.hex"
    b.write_text(record(0, 0x2000, b"\x09") + "\n" + EOF + "\n")
    out = tmp_path / "m.hex"
    code, data, _ = combine(b, a, "-o", out)
    assert code == 0
    assert out.read_text().splitlines()[-2:] == [record(3, 0, bytes.fromhex("12340056")), EOF]
    assert load_ih(out).start_addr == {"CS": 0x1234, "IP": 0x0056}
    assert data["start_address"]["text"] == "CS:IP 0x1234:0x0056 (type 03)"  # type: ignore[index]


def test_agreeing_start_records_are_kept(tmp_path: Path) -> None:
    a = _with_start(tmp_path / "s1.hex", 5, 0x08000121)
    b = _with_start(tmp_path / "s2.hex", 5, 0x08000121)
    code, data, _ = combine(a, b, "-o", tmp_path / "m.hex")
    assert code == 0
    assert data["start_address"]["source"] == f"{a}, {b}"  # type: ignore[index]


def test_differing_start_records_fail_naming_the_files(tmp_path: Path) -> None:
    a = _with_start(tmp_path / "s1.hex", 5, 0x08000121)
    b = _with_start(tmp_path / "s2.hex", 3, 0x00000100)
    out = tmp_path / "m.hex"
    result = run_cli("combine", a, b, "-o", out)
    assert result.code == 2
    assert result.err == (
        f"ota-action combine: error: --start-address: the inputs' start addresses differ ({a} has EIP "
        f"0x08000121 (type 05), {b} has CS:IP 0x0000:0x0100 (type 03)); "
        "choose first, last, none or an address\n"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("choice", "line"),
    [
        ("first", record(5, 0, bytes.fromhex("08000121"))),
        ("last", record(3, 0, bytes.fromhex("00000100"))),
        ("none", None),
        ("0x08004000", record(5, 0, bytes.fromhex("08004000"))),
        ("0xF000:0xFFF0", record(3, 0, bytes.fromhex("F000FFF0"))),
    ],
)
def test_start_address_choices(tmp_path: Path, choice: str, line: str | None) -> None:
    a = _with_start(tmp_path / "s1.hex", 5, 0x08000121)
    b = _with_start(tmp_path / "s2.hex", 3, 0x00000100)
    out = tmp_path / "m.hex"
    code, data, err = combine(a, b, "-o", out, "--start-address", choice)
    assert (code, err) == (0, "")
    lines = out.read_text().splitlines()
    assert lines[-1] == EOF
    if line is None:
        assert data["start_address"] is None
        assert not [x for x in lines if x[7:9] in ("03", "05")]
    else:
        assert lines[-2] == line


def test_output_is_deterministic_and_record_length_applies(tmp_path: Path, firmware: dict[str, Path]) -> None:
    first, second = tmp_path / "one.hex", tmp_path / "two.hex"
    for out in (first, second):
        assert (
            run_cli("combine", firmware["app"], firmware["boot"], "-o", out, "--record-length", "32").code
            == 0
        )
    assert first.read_bytes() == second.read_bytes()
    data_lengths = {int(x[1:3], 16) for x in first.read_text().splitlines() if x[7:9] == "00"}
    assert data_lengths == {32}


def test_text_summary(tmp_path: Path, firmware: dict[str, Path]) -> None:
    out = tmp_path / "m.hex"
    result = run_cli("combine", firmware["boot"], firmware["app"], "-o", out)
    assert result.code == 0
    digest = hashlib.sha256(out.read_bytes()).hexdigest()

    def label(path: Path) -> str:  # the map's name column: 24 characters, the end kept
        return (str(path) if len(str(path)) <= 24 else "..." + str(path)[-21:]).ljust(24)

    # 0x00000000-0x00012FFF over 64 columns of 1216 bytes: boot 2 columns, app from column 53.
    assert result.out.splitlines() == [
        "Memory map (0x00000000-0x00012FFF, 1 column = 1216 bytes):",
        f"  {label(firmware['boot'])}  |{'#' * 2}{'.' * 62}|",
        f"  {label(firmware['app'])}  |{'.' * 53}{'#' * 11}|",
        f"  {'result':<24}  |{'#' * 2}{'.' * 51}{'#' * 11}|",
        "  # data, . nothing, X overlap",
        "Inputs:",
        f"  {firmware['boot']} (Intel HEX): 2048 bytes in 0x00000000-0x000007FF (2048 bytes)",
        f"  {firmware['app']} (Intel HEX): 12288 bytes in 0x00010000-0x00012FFF (12288 bytes)",
        "    start address: EIP 0x00010101 (type 05)",
        "Merged: 14336 bytes in 0x00000000-0x000007FF (2048 bytes), 0x00010000-0x00012FFF (12288 bytes)",
        "Gaps: 0x00000800-0x0000FFFF (63488 bytes)",
        "Overlaps: none",
        f"Start address: EIP 0x00010101 (type 05) from {firmware['app']}",
        "Records: 16 data bytes each, type 04 extended linear addresses",
        f"File size: {out.stat().st_size} bytes",
        f"SHA-256: {digest}",
        f"Combined HEX written to: {out}",
        f"Result: written ({out}, 14336 data bytes in 2 ranges)",
    ]


def test_help_lists_combine() -> None:
    assert "combine" in run_cli("--help").out
    result = run_cli("combine", "--help")
    assert result.code == 0
    text = result.out
    for flag in ("FILE", "--outfile", "--on-overlap", "--start-address", "--record-length", "--json"):
        assert flag in text


def _good(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_text(record(0, 0x100 if name.startswith("b") else 0, b"\x01\x02") + "\n" + EOF + "\n")
    return path


def _bad(tmp_path: Path, text: str, name: str = "bad.hex") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    return path


# (id, files (callable building them), extra options, expected stderr after "error: ")
BAD_INPUTS = [
    (
        "bad checksum",
        lambda t: [_good(t, "a.hex"), _bad(t, record(0, 0, b"\1") + "\n:0100000001FF\n" + EOF)],
        [],
        "FILE '{1}': line 2: bad checksum 0xFF (the record needs 0xFE)",
    ),
    (
        "bad record type",
        lambda t: [_good(t, "a.hex"), _bad(t, record(7, 0, b"\1") + "\n" + EOF)],
        [],
        "FILE '{1}': line 1: unknown record type 0x07 (Intel HEX has 00-05)",
    ),
    (
        "data after EOF record",
        lambda t: [_good(t, "a.hex"), _bad(t, EOF + "\n:0100000001F\n")],
        [],
        "FILE '{1}': line 2: data after the end-of-file record on line 1",
    ),
    (
        "odd length record",
        lambda t: [_bad(t, ":0100000001F\n" + EOF), _good(t, "a.hex")],
        [],
        "FILE '{0}': line 1: odd number of hex digits (11)",
    ),
    (
        "non-hex characters",
        lambda t: [_good(t, "a.hex"), _bad(t, "\n\n:01000000ZZFE\n" + EOF)],
        [],
        "FILE '{1}': line 3: non-hex character 'Z'",
    ),
    (
        "missing EOF record",
        lambda t: [_good(t, "a.hex"), _bad(t, record(0, 0, b"\1") + "\n")],
        [],
        "FILE '{1}': line 1: no end-of-file record (:00000001FF) at the end; the file may be truncated",
    ),
    (
        "fewer than 2 files",
        lambda t: [_good(t, "a.hex")],
        [],
        "FILE: combine needs at least 2 files; got 1 ({0})",
    ),
    ("missing file", lambda t: [_good(t, "a.hex"), t / "nope.hex"], [], "FILE '{1}': file does not exist"),
    (
        "Intel HEX text named .bin",
        lambda t: [_good(t, "a.hex"), _good(t, "b.bin")],
        [],
        "FILE '{1}': is named as raw binary (.bin) but holds Intel HEX; name it .hex if that is meant, "
        "or give the raw binary file",
    ),
    (
        "ELF named .hex",
        lambda t: [_good(t, "a.hex"), _bad(t, "\x7fELF\x01\x01\x01" + "\0" * 60, "b.hex")],
        [],
        "FILE '{1}': is named as Intel HEX (.hex) but holds ELF; name it .elf if that is meant, "
        "or give the Intel HEX file",
    ),
    (
        "raw binary without an address",
        lambda t: [_good(t, "a.hex"), _bad(t, "\x00\x01", "b.bin")],
        [],
        "FILE '{1}': is raw binary, which has no addresses; give the address it loads at, as {1}@0x08000000",
    ),
    (
        "an address for a file with its own",
        lambda t: [_good(t, "a.hex"), f"{_good(t, 'b.hex')}@0x1000"],
        [],
        "FILE '{1}': holds Intel HEX, which carries its own addresses; "
        "an @0x1000 load address is for raw binary files only",
    ),
    (
        "S-record bad checksum",
        lambda t: [_good(t, "a.hex"), _bad(t, "S00300FC\nS1050000AB00\n", "b.s37")],
        ["-o", "{out}.s37"],
        "FILE '{1}': line 1: count field says 3 bytes but the record holds 2",
    ),
    (
        "S-record count mismatch",
        lambda t: [_good(t, "a.hex"), _bad(t, "S1040000AB50\nS5030002FA\n", "b.s37")],
        [],
        "FILE '{1}': line 2: S5 record count 2 but 1 data records come before it",
    ),
    (
        "non-UTF-8 bytes in a record",
        lambda t: [_good(t, "a.hex"), _bad(t, ":0100\udce9000001FE\n" + EOF)],
        [],
        "FILE '{1}': line 1: non-ASCII character",
    ),
    (
        "output type not a record format",
        lambda t: [_good(t, "a.hex"), _good(t, "b.hex")],
        ["-o", "{out}.bin"],
        "--outfile '{out}.bin': must be named .hex (Intel HEX) or .s37, .s19, .s28, .srec or .mot (S-record)",
    ),
    (
        "output kind no input has",
        lambda t: [_good(t, "a.hex"), _good(t, "b.hex")],
        ["-o", "{out}.s37"],
        "--outfile '{out}.s37': is Motorola S-record, but no input is (they hold Intel HEX); "
        "name the output after an input's kind",
    ),
    (
        "input is a directory",
        lambda t: [_good(t, "a.hex"), (t / "d.hex").mkdir() or t / "d.hex"],
        [],
        "FILE '{1}': is a directory, not a file",
    ),
    (
        "bad on-overlap",
        lambda t: [_good(t, "a.hex"), _good(t, "b.hex")],
        ["--on-overlap", "merge"],
        "--on-overlap 'merge': must be error, keep-first or keep-last",
    ),
    (
        "bad start-address",
        lambda t: [_good(t, "a.hex"), _good(t, "b.hex")],
        ["--start-address", "main"],
        "--start-address 'main': must be first, last, none, an address such as 0x08000121, "
        "or CS:IP such as 0x0000:0x0100",
    ),
    (
        "record length 0",
        lambda t: [_good(t, "a.hex"), _good(t, "b.hex")],
        ["--record-length", "0"],
        "--record-length '0': must be between 1 and 255 data bytes",
    ),
    (
        "record length 256",
        lambda t: [_good(t, "a.hex"), _good(t, "b.hex")],
        ["--record-length", "256"],
        "--record-length '256': must be between 1 and 255 data bytes",
    ),
]


@pytest.mark.parametrize(
    ("build", "options", "expected"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_input_catalogue(tmp_path: Path, build, options: list[str], expected: str) -> None:  # type: ignore[no-untyped-def]
    inputs = build(tmp_path)
    out = tmp_path / "out" / "merged"
    argv = [str(p) for p in inputs] + [o.format(out=out) for o in options]
    if "-o" not in options:
        argv += ["-o", f"{out}.hex"]
    result = run_cli("combine", *argv)
    assert result.code == 2
    assert result.out == ""
    message = expected.format(*inputs, out=out)
    assert result.err == f"ota-action combine: error: {message}\n"
    assert "\n" not in result.err.rstrip("\n")
    assert not (tmp_path / "out").exists()


def test_no_files_is_a_usage_error() -> None:
    result = run_cli("combine", "-o", "x.hex")
    assert result.code == 2
    assert result.err.startswith("ota-action combine: error: the following arguments are required: FILE")


def test_files_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = _good(tmp_path, "a.hex"), _good(tmp_path, "b.hex")
    monkeypatch.setenv("OTA_FILES", f"{a}\n{b}\n")
    monkeypatch.setenv("OTA_OUTFILE", str(tmp_path / "env.hex"))
    monkeypatch.setenv("OTA_ON_OVERLAP", "keep-last")
    # argparse requires FILE on the command line; the settings model itself reads the list.
    from ota_action.commands.combine import run
    from ota_action.settings import load
    from ota_action.settings.combine import CombineSettings

    report = run(load(CombineSettings, {})).to_json()
    assert report["merged_ranges"][0]["range"] == "0x00000000-0x00000001"
    assert report["data_bytes"] == 4
    ih = IntelHex()
    ih.loadhex(io.StringIO((tmp_path / "env.hex").read_text()))
    assert memory(ih) == {0: 1, 1: 2, 0x100: 1, 0x101: 2}


def test_markdown_summary(tmp_path: Path, firmware: dict[str, Path]) -> None:
    from ota_action.commands.combine import run
    from ota_action.settings import load
    from ota_action.settings.combine import CombineSettings

    out = tmp_path / "m.hex"
    report = run(load(CombineSettings, {"files": [firmware["boot"], firmware["app"]], "outfile": out}))
    text = report.markdown()
    assert (
        f"| {firmware['app']} | Intel HEX | 12288 | 0x00010000-0x00012FFF (12288 bytes) "
        "| EIP 0x00010101 (type 05) |" in text
    )
    assert "**Gaps:** 0x00000800-0x0000FFFF (63488 bytes)" in text
    assert "**Overlaps (error):** 0 bytes, 0 identical, 0 overridden" in text
    assert f"**SHA-256:** `{hashlib.sha256(out.read_bytes()).hexdigest()}`" in text
