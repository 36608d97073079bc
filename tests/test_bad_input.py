"""The bad-input catalogue: each case exits 2 with one line naming the option and value, and
leaves no output file behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli

BASE = {"-m": "0x1234", "-i": "0x0001", "-v": "1.0.0.0", "-t": "0x0000:16"}

# (id, options replacing or adding to BASE, text the message must contain)
CASES: list[tuple[str, dict[str, str | None], str]] = [
    ("mfg-id too big", {"-m": "0x10000"}, "--mfg-id '0x10000': is out of range (0 to 0xFFFF)"),
    ("mfg-id negative", {"-m": "-1"}, "--mfg-id '-1': is out of range (0 to 0xFFFF)"),
    ("mfg-id not a number", {"-m": "acme"}, "--mfg-id 'acme': must be an integer"),
    ("image-type too big", {"-i": "65536"}, "--image-type '65536': is out of range (0 to 0xFFFF)"),
    ("version 5 parts", {"-v": "1.2.3.4.5"}, "--version '1.2.3.4.5': has 5 dotted parts, not 4"),
    (
        "version 3 parts",
        {"-v": "1.2.3"},
        "--version '1.2.3': has 3 dotted parts, not 4; write a.b.c.d with each part 0-255 (1.2.3.0), "
        "or a 32-bit integer (0x01020300)",
    ),
    (
        "version part over 255",
        {"-v": "1.256.0.0"},
        "--version '1.256.0.0': has a part above 255 (256); write a.b.c.d",
    ),
    ("version too big", {"-v": "0x100000000"}, "--version '0x100000000': is out of range (0 to 0xFFFFFFFF)"),
    ("version garbage", {"-v": "v1"}, "--version 'v1': must be an integer"),
    ("string 33 bytes", {"--string": "x" * 33}, "--string '" + "x" * 33 + "': is 33 characters"),
    (
        "string non-ascii",
        {"--string": "Grüße"},
        "--string 'Grüße': character 3, '\\xfc' (U+00FC), is not ASCII; the header string is 32 ASCII"
        " bytes: write it in ASCII, or give the exact bytes in hex with --string-hex",
    ),
    ("credentials too big", {"-c": "256"}, "--credentials '256': is out of range (0 to 0xFF)"),
    ("stack version too big", {"--stack-version": "0x10000"}, "--stack-version '0x10000'"),
    (
        "eui64 too short",
        {"-d": "00:0d:6f:00:00:19:8b"},
        "--dest-eui64 '00:0d:6f:00:00:19:8b': must be 16 hex digits",
    ),
    ("eui64 not hex", {"-d": "00:0d:6f:00:00:19:8b:zz"}, "--dest-eui64"),
    ("eui64 mixed separators", {"-d": "00:0d-6f:00:00:19:8b:36"}, "--dest-eui64"),
    (
        "min above max hwv",
        {"--min-hwv": "0x0200", "--max-hwv": "0x0100"},
        "--min-hwv '0x0200': minimum hardware version 0x0200 is above the maximum 0x0100",
    ),
    ("min hwv alone above default max", {"--min-hwv": "0x10000"}, "--min-hwv '0x10000'"),
    ("tag without colon", {"-t": "0x0000"}, "--tag '0x0000': must be TAG_ID:FILE or TAG_ID:LENGTH"),
    ("tag id not a number", {"-t": "zz:16"}, "--tag 'zz:16': tag id 'zz' must be an integer"),
    (
        "tag id too big",
        {"-t": "0x10000:16"},
        "--tag '0x10000:16': tag id '0x10000' is out of range (0 to 0xFFFF)",
    ),
    ("tag length too big", {"-t": "0x0000:0x100000000"}, "--tag '0x0000:0x100000000'"),
    ("tag file missing", {"-t": "0x0000:no-such-file.bin"}, "--tag 'no-such-file.bin': file does not exist"),
    ("tag file is a directory", {"-t": "0x0000:."}, "--tag '.': is a directory, not a file"),
    (
        "integrity tag by hand",
        {"-t": "0x0003:16"},
        "--tag '0x0003': tag 0x0003 is the image integrity code; use --integrity",
    ),
    (
        "padding tag by hand",
        {"-t": "0xFFFF:16"},
        "--tag '0xFFFF': tag 0xFFFF is the alignment padding element; use --align",
    ),
    (
        "signature suite 1",
        {"-t": "0x0001:50"},
        "--tag '0x0001': tag 0x0001 is a Smart Energy ECDSA signature (crypto suite 1)",
    ),
    (
        "certificate suite 2",
        {"-t": "0x0006:74"},
        "--tag '0x0006': tag 0x0006 is a Smart Energy ECDSA signing certificate (crypto suite 2)",
    ),
    ("reserved tag", {"-t": "0x0100:4"}, "--tag '0x0100': tag id is in the reserved range 0x0007-0xEFFF"),
    ("align zero", {"--align": "0"}, "--align '0': must be between 1 and 1048576 bytes"),
    (
        "align without image",
        {"-t": "0xF000:4", "--align": "256"},
        "--align '256': needs an upgrade image (tag 0x0000)",
    ),
    ("fill too big", {"--fill": "256"}, "--fill '256': is out of range (0 to 0xFF)"),
    ("missing mfg-id", {"-m": None}, "--mfg-id: is required"),
    ("missing tag", {"-t": None}, "--tag: is required"),
    ("unknown option", {"--colour": "red"}, "unknown option --colour (see --help)"),
    ("option without value", {"--string": None, "-i": None, "--image-type": ""}, "--image-type"),
]


def _argv(out: Path, changes: dict[str, str | None]) -> list[str]:
    options = {**BASE, **changes}
    argv = ["zbota", "-o", str(out)]
    for flag, value in options.items():
        if value is None:
            continue
        argv += [flag] if value == "" else [flag, value]
    return argv


@pytest.mark.parametrize(("changes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, changes: dict[str, str | None], expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "sub" / "out.ota"
    result = run_cli(*_argv(out, changes))
    assert result.code == 2, result.out
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("ota-action zbota: error: ")
    assert expected in lines[0]
    assert not out.exists()
    assert not any(tmp_path.rglob("*.ota*")), "a partial or temporary file was left behind"


def test_stray_values_are_not_echoed(tmp_path: Path) -> None:
    secret = "-----BEGIN PRIVATE KEY-----MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg"
    result = run_cli(*_argv(tmp_path / "out.ota", {}), secret, "oops")
    assert result.code == 2
    assert "unrecognized arguments: <value> <value>" in result.err
    assert "MIGH" not in result.err


def test_duplicate_tag(tmp_path: Path) -> None:
    out = tmp_path / "out.ota"
    result = run_cli(*_argv(out, {}), "-t", "0x0000:8")
    assert result.code == 2
    assert "--tag '0x0000': tag id given more than once" in result.err
    assert not out.exists()


def test_output_is_a_directory(tmp_path: Path) -> None:
    result = run_cli(*_argv(tmp_path, {}))
    assert result.code == 2
    assert f"--outfile '{tmp_path}': is a directory" in result.err


def test_output_parent_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_cli(*_argv(blocker / "out.ota", {}))
    assert result.code == 2
    assert "is not a directory" in result.err


def test_failure_keeps_an_existing_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out.ota"
    out.write_bytes(b"previous release")
    result = run_cli(*_argv(out, {"-t": "0x0000:missing.bin"}))
    assert result.code == 2
    assert out.read_bytes() == b"previous release"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["inspect"], "the following arguments are required: FILE"),
        (["inspect", "no-such.ota"], "FILE 'no-such.ota': file does not exist"),
        (["frobnicate"], "unknown command 'frobnicate'"),
    ],
)
def test_reader_usage_errors(argv: list[str], expected: str) -> None:
    result = run_cli(*argv)
    assert result.code == 2
    assert expected in result.err
    assert len(result.err.splitlines()) == 1
